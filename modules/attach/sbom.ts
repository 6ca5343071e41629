/**
 * The SBOM input of a packed model: file digests from the manifest (raw layers are the files;
 * tar layers carry the file's digest as packing recorded it), the ModelPack config, the artifact,
 * and the README, evaluation results and dependency files read from their own small layers.
 */
import path from 'node:path';
import { packedFilesOf } from '../modelpack/index.js';
import { sbomInputFromManifest, sbomInputFromProject, type SbomArtifact, type SbomFile, type SbomInput } from '../sbom/index.js';
import type { SpecFileEntry } from '../project/index.js';
import { modelFilesOf, type ArtifactProject } from './artifact.js';

/** Per-file SHA-256 for tar layers where packing recorded it, so every entry names one file's hash. */
function withFileDigests(files: SbomFile[], project: ArtifactProject): SbomFile[] {
  const byLayer = new Map(packedFilesOf(project.view.manifest.layers).map((l) => [l.layerDigest.replace(/^sha256:/, ''), l.files]));
  return files.map((f) => {
    const recorded = f.archive ? byLayer.get(f.sha256) : undefined;
    if (recorded?.length !== 1) return f;
    const { archive: _archive, ...file } = f;
    return { ...file, sha256: recorded[0]!.sha256.replace(/^sha256:/, '') };
  });
}

/** The folders holding code files, where dependency manifests and lock files are looked for. */
function codeFolders(project: ArtifactProject): SpecFileEntry[] {
  const dirs = new Set(project.view.files.filter((f) => f.kind === 'code').flatMap((f) => modelFilesOf(project, f).map((m) => path.posix.dirname(m.path))));
  return [...dirs].filter((d) => d !== '.').map((d) => ({ kind: 'code', path: d }));
}

export interface ArtifactSbomOptions {
  timestamp?: string;
  /** SPDX's creation time when neither a timestamp nor the model's createdAt gives one. */
  created?: string;
  /** Where the reference can be pulled from, when it names a registry. */
  registry?: SbomArtifact['registry'];
}

/** The artifact as the SBOM names it: the digest the reference resolves to, and a ModelCar's model manifest. */
function artifactOf(project: ArtifactProject, registry: SbomArtifact['registry']): SbomArtifact {
  const { resolved, descriptor } = project.view;
  return {
    reference: project.reference,
    digest: resolved.digest,
    mediaType: resolved.mediaType,
    ...(registry ? { registry } : {}),
    ...(resolved.digest !== descriptor.digest ? { modelManifest: { digest: descriptor.digest, mediaType: descriptor.mediaType, size: descriptor.size } } : {}),
  };
}

export async function sbomInputOfArtifact(project: ArtifactProject, opts: ArtifactSbomOptions = {}): Promise<SbomInput> {
  // The manifest and config were read once with the project; the SBOM input is derived from them.
  const { view } = project;
  const packed = sbomInputFromManifest(view.manifest, view.config, artifactOf(project, opts.registry));
  const known = withFileDigests(packed.files, project).map((f) => (project.root && f.path.startsWith(project.root) ? { ...f, path: f.path.slice(project.root.length) } : f));
  // Every fetched file is known from the manifest, so nothing is hashed again here.
  const read = await sbomInputFromProject(project.dir, { ...packed.spec, files: codeFolders(project) }, { known, ...(opts.timestamp ? { timestamp: opts.timestamp } : {}) });
  return { ...read, ...packed, files: read.files, ...(opts.created ? { created: opts.created } : {}) };
}
