/**
 * OMS resources from a ModelPack manifest: a raw layer's digest is the file's sha256, so the
 * statement is built without reading the weights again. Tar layers need the per-file digests
 * recorded when they were packed.
 */
import { ModelshipError } from '../../errors/index.js';
import type { ImageManifest } from '../../oci/types.js';
import {
  ANNOTATION_FILEPATH,
  ANNOTATION_TITLE,
  LEGACY_ANNOTATION_FILEPATH,
  parseLayerMediaType,
} from '../../modelpack/mediatypes.js';
import { buildOmsStatement, sortResources, type OmsResource, type OmsStatement } from './statement.js';

/** Per-file sha256 digests of one tar layer, as recorded at pack time. */
export interface PackedLayerFiles {
  /** The layer's digest, `sha256:<hex>`. */
  layerDigest: string;
  files: { path: string; sha256: string }[];
}

export interface ResourcesFromManifestOptions {
  /** File digests for tar layers, keyed by layer digest. */
  packedFiles?: PackedLayerFiles[];
}

export function resourcesFromManifest(manifest: ImageManifest, opts: ResourcesFromManifestOptions = {}): OmsResource[] {
  const packed = new Map((opts.packedFiles ?? []).map((l) => [l.layerDigest, l.files]));
  const out: OmsResource[] = [];
  // Where each path came from: a path twice would be signed once and then fail verification as "digest differs".
  const origin = new Map<string, string>();
  const add = (resource: OmsResource, where: string) => {
    const first = origin.get(resource.name);
    if (first !== undefined) {
      throw new ModelshipError(
        'SIGN_DUPLICATE_PATH',
        `${first} and ${where} both hold the file path "${resource.name}": a model signature lists each file once, so this manifest cannot be signed (its verification would fail as "digest differs"); repack the model so every path appears once`,
        { details: { path: resource.name } },
      );
    }
    origin.set(resource.name, where);
    out.push(resource);
  };
  manifest.layers.forEach((layer, i) => {
    const parsed = parseLayerMediaType(layer.mediaType);
    if (!parsed) return; // not a model file (e.g. an attachment layer)
    const recorded = packed.get(layer.digest);
    if (recorded) {
      for (const f of recorded) add({ name: f.path, algorithm: 'sha256', digest: hexOf(f.sha256, `layer ${i} file ${f.path}`) }, `layer ${i} (${layer.digest})`);
      return;
    }
    if (parsed.format !== 'raw') {
      throw new ModelshipError(
        'SIGN_FILE_DIGESTS_MISSING',
        `layer ${i} (${layer.digest}, ${layer.mediaType}) is an archive and no per-file digests were recorded for it at pack time; repack, or sign the unpacked folder`,
      );
    }
    const path = layer.annotations?.[ANNOTATION_FILEPATH] ?? layer.annotations?.[LEGACY_ANNOTATION_FILEPATH] ?? layer.annotations?.[ANNOTATION_TITLE];
    if (!path) {
      throw new ModelshipError('SIGN_FILE_DIGESTS_MISSING', `layer ${i} (${layer.digest}) has no ${ANNOTATION_FILEPATH} annotation, so its file name is unknown`);
    }
    add({ name: path, algorithm: 'sha256', digest: hexOf(layer.digest, `layer ${i}`) }, `layer ${i} (${layer.digest})`);
  });
  return sortResources(out);
}

function hexOf(digest: string, where: string): string {
  const m = /^(?:sha256:)?([a-f0-9]{64})$/.exec(digest);
  if (!m) throw new ModelshipError('SIGN_FILE_DIGESTS_MISSING', `${where}: "${digest}" is not a sha256 digest`);
  return m[1]!;
}

export interface ManifestStatementOptions extends ResourcesFromManifestOptions {
  /** The subject name: the model's folder name when it was packed. */
  modelName: string;
}

/** The statement `model_signing` would write for the unpacked folder, from the manifest alone. */
export function omsStatementFromManifest(manifest: ImageManifest, opts: ManifestStatementOptions): OmsStatement {
  return buildOmsStatement({
    modelName: opts.modelName,
    resources: resourcesFromManifest(manifest, opts),
    serialization: { method: 'files', hash_type: 'sha256', allow_symlinks: false, ignore_paths: [] },
  });
}
