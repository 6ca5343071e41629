/**
 * SBOMs for packed artifacts: the input comes from the manifest and the ModelPack config, so no
 * weight is fetched.
 */
import { parseJsonBounded } from '../json/bounded.js';
import { ModelshipError } from '../errors/index.js';
import {
  fetchManifest,
  readAllVerified,
  type Descriptor,
  type ImageManifest,
  type ReadOnlyTarget,
} from '../oci/index.js';
import type { ModelSpec } from '../project/model-spec.js';
import { filesFromManifest } from './files.js';
import type { SbomInput, SbomSpec } from './input.js';

/** ModelPack configs are small JSON; anything larger is not one. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

export interface PackedModel {
  input: SbomInput;
  manifest: ImageManifest;
  subject: Descriptor;
}

const rec = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** Reads the manifest `subject` names on `target` and its config; `reference` is what the user typed. */
export async function sbomInputFromArtifact(target: ReadOnlyTarget, subject: Descriptor, reference: string): Promise<PackedModel> {
  const manifest = await fetchManifest(target, subject, reference);
  if ('manifests' in manifest) {
    throw new ModelshipError('SBOM_INVALID', `${reference} is an index of ${manifest.manifests.length} manifests: give the digest of the model manifest (modelship inspect ${reference})`);
  }
  let modelConfig: Record<string, unknown> | undefined;
  if (/^application\/vnd\.(cncf|cnai)\.model\.config\.v1\+json$/.test(manifest.config.mediaType)) {
    const bytes = await readAllVerified(await target.fetch(manifest.config), manifest.config, MAX_CONFIG_BYTES, reference);
    try {
      modelConfig = rec(parseJsonBounded(new TextDecoder().decode(bytes), (limit) =>
        new ModelshipError('SBOM_INVALID', `the ModelPack config ${manifest.config.digest} of ${reference} nests arrays or objects more than ${limit} deep; the artifact is malformed or malicious`),
      ));
    } catch (err) {
      if (err instanceof ModelshipError) throw err;
      throw new ModelshipError('SBOM_INVALID', `the ModelPack config ${manifest.config.digest} of ${reference} is not JSON: repack the model`, { cause: err });
    }
  }
  return { input: sbomInputFromManifest(manifest, modelConfig, { reference, digest: subject.digest, mediaType: subject.mediaType }), manifest, subject };
}

/** The SBOM input of a manifest already read, with its ModelPack config (if it has one): no I/O. */
/** The manifest annotation naming where a model came from (`hf://ORG/NAME@SHA` for an import). */
export const ANNOTATION_SOURCE = 'dev.modelship.source';

export function sbomInputFromManifest(manifest: ImageManifest, modelConfig: unknown, artifact: SbomInput['artifact'] & object): SbomInput {
  const files = filesFromManifest(manifest);
  if (files.length === 0) {
    throw new ModelshipError('SBOM_INVALID', `${artifact.reference} has no ModelPack layers (application/vnd.cncf.model.*): it is not a packed model`);
  }
  const config = modelConfig === undefined ? undefined : rec(modelConfig);
  const spec: SbomSpec = {
    descriptor: rec(config?.['descriptor']) as ModelSpec['descriptor'],
    config: rec(config?.['config']) as ModelSpec['config'],
    files: [],
  };
  const source = manifest.annotations?.[ANNOTATION_SOURCE];
  return { spec, files, artifact: { ...artifact, ...(source ? { source } : {}) }, ...(config ? { modelConfig: config } : {}) };
}
