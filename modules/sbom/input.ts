/**
 * What an SBOM is built from: the spec and what packing produced (file digests, the artifact,
 * the ModelPack config), never the weights themselves.
 */
import type { FileKind, ModelSpec } from '../project/model-spec.js';

/** The parts of a ModelSpec an SBOM reads; a full ModelSpec fits. */
export type SbomSpec = Pick<ModelSpec, 'descriptor' | 'config' | 'files'> & Partial<Pick<ModelSpec, 'ignore'>>;

export interface SbomFile {
  /** Path inside the artifact, as `org.cncf.model.filepath` gives it. */
  path: string;
  kind: FileKind;
  size: number;
  /** Lowercase hex SHA-256: the raw layer digest, or for tar layers the digest of the archive. */
  sha256: string;
  /** The layer media type it travels in, when packed. */
  mediaType?: string;
  /** True when the digest is of a tar archive holding this path, not of a single file. */
  archive?: boolean;
}

export interface SbomArtifact {
  /** e.g. `registry.example.com/team/model:1.0` or `./layout:1.0` */
  reference: string;
  /** What the reference resolves to (a ModelCar's index), `sha256:<hex>`. */
  digest: string;
  mediaType: string;
  /** Where it can be pulled from: only a registry reference has one (a store or layout name is local). */
  registry?: { host: string; repository: string; tag?: string };
  /** Where the model came from, as the manifest records it: `hf://ORG/NAME@SHA` for an import from the Hub. */
  source?: string;
  /** The ModelPack manifest, when `digest` names an index that lists it (a ModelCar). */
  modelManifest?: { digest: string; mediaType: string; size: number };
}

export interface EvaluationResult {
  metric: string;
  value: string | number;
  task?: string;
  dataset?: string;
}

export interface ModelConsiderations {
  users?: string[];
  useCases?: string[];
  technicalLimitations?: string[];
  ethicalConsiderations?: string[];
}

/** What a Hugging Face style README says about the model. */
export interface ModelCardInfo {
  pipelineTag?: string;
  license?: string;
  languages?: string[];
  datasets?: string[];
  baseModel?: string[];
  tags?: string[];
  considerations?: ModelConsiderations;
}

export type DependencyEcosystem = 'pypi' | 'npm';

export interface Dependency {
  ecosystem: DependencyEcosystem;
  /** Name as the ecosystem spells it (PEP 503 normalised for pypi). */
  name: string;
  /** Exact version, from a pin or a lock file. */
  version?: string;
  /** The declared range when no exact version is known, e.g. `>=2,<3`. */
  versionRange?: string;
  purl: string;
  scope: 'required' | 'optional';
  /** The manifest or lock file it came from, relative to the project. */
  source: string;
  /** Digests the lock file records, e.g. `{ alg: 'SHA-512', hex }` for npm integrity. */
  hashes?: { alg: 'SHA-256' | 'SHA-512'; hex: string }[];
  /** purls of the packages this one depends on (from lock files). */
  dependsOn?: string[];
  /** True for the project's own direct dependencies. */
  direct: boolean;
}

export interface SbomInput {
  spec: SbomSpec;
  artifact?: SbomArtifact;
  files: SbomFile[];
  /** The ModelPack config JSON, when the artifact is packed. */
  modelConfig?: Record<string, unknown>;
  evaluation?: EvaluationResult[];
  modelCard?: ModelCardInfo;
  dependencies?: Dependency[];
  /** ISO 8601 time to record; absent keeps the document reproducible. */
  timestamp?: string;
  /** SPDX's required creation time when there is no timestamp and the model records no createdAt (now, or SOURCE_DATE_EPOCH). */
  created?: string;
  /** The tool to name as author; defaults to this modelship. */
  tool?: { name: string; version: string };
}
