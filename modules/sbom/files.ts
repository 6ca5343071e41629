/**
 * SBOM file entries from a ModelPack manifest: paths from the layer annotations, digests from
 * the layers themselves, so no weight is read again.
 */
import { ModelshipError } from '../errors/index.js';
import { parseDigest, type ImageManifest } from '../oci/index.js';
import {
  ANNOTATION_FILEPATH,
  ANNOTATION_TITLE,
  LEGACY_ANNOTATION_FILEPATH,
  parseLayerMediaType,
} from '../modelpack/mediatypes.js';
import { folderEntriesOf } from '../modelpack/entries.js';
import type { SbomFile } from './input.js';

/**
 * One entry per ModelPack layer. For raw layers the layer digest is the file's SHA-256; for tar
 * layers it is the digest of the archive holding the path, and the entry says so (`archive`). A
 * folder layer lists its files, each with the SHA-256 packing recorded for it.
 */
export function filesFromManifest(manifest: ImageManifest): SbomFile[] {
  const files: SbomFile[] = [];
  manifest.layers.forEach((layer, i) => {
    const parsed = parseLayerMediaType(layer.mediaType);
    if (!parsed) return;
    const where = `manifest layers[${i}] (${layer.digest})`;
    const filePath =
      layer.annotations?.[ANNOTATION_FILEPATH] ?? layer.annotations?.[LEGACY_ANNOTATION_FILEPATH] ?? layer.annotations?.[ANNOTATION_TITLE];
    if (!filePath) {
      throw new ModelshipError('SBOM_INVALID', `${where} has no ${ANNOTATION_FILEPATH} annotation: repack the model with modelship pack`);
    }
    const entries = folderEntriesOf(layer);
    if (entries) {
      for (const e of entries) files.push({ path: e.path, kind: parsed.kind, size: e.size, sha256: e.sha256.slice('sha256:'.length), mediaType: layer.mediaType });
      return;
    }
    const digest = parseDigest(layer.digest, where);
    if (digest.algorithm !== 'sha256') {
      throw new ModelshipError('SBOM_INVALID', `${where} uses ${digest.algorithm}; SBOM file hashes need sha256 layer digests`);
    }
    files.push({
      path: filePath,
      kind: parsed.kind,
      size: layer.size,
      sha256: digest.hex,
      mediaType: layer.mediaType,
      ...(parsed.format === 'raw' ? {} : { archive: true }),
    });
  });
  return files;
}
