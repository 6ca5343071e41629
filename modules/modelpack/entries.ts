/**
 * The files a folder layer holds, as packing listed them in its annotations: each file's path, size
 * and sha256, so signing, SBOMs and cards list every file without fetching the layer.
 */
import type { Descriptor } from '../oci/types.js';
import { ANNOTATION_FILEPATH } from './mediatypes.js';

/**
 * A folder layer's files, `[[name, size, sha256 hex], ...]` with names relative to the layer's
 * filepath, sorted by path.
 */
export const ANNOTATION_FILE_ENTRIES = 'dev.modelship.files+json';

/**
 * A folder layer's files as its `dev.modelship.files+json` annotation lists them, with their paths
 * in the artifact (the layer's filepath joined with each name); undefined when the layer has no such
 * list or it is malformed (then nothing is trusted from it).
 */
export function folderEntriesOf(layer: Descriptor): { path: string; size: number; sha256: string }[] | undefined {
  const raw = layer.annotations?.[ANNOTATION_FILE_ENTRIES];
  const folder = layer.annotations?.[ANNOTATION_FILEPATH];
  if (raw === undefined || !folder) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const out: { path: string; size: number; sha256: string }[] = [];
  for (const item of parsed) {
    if (!Array.isArray(item) || item.length !== 3) return undefined;
    const [name, size, hex] = item as unknown[];
    if (typeof name !== 'string' || !name || name.startsWith('/') || name.split('/').some((p) => p === '' || p === '.' || p === '..')) return undefined;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return undefined;
    if (typeof hex !== 'string' || !/^[a-f0-9]{64}$/.test(hex)) return undefined;
    out.push({ path: folder === '.' ? name : `${folder}/${name}`, size, sha256: `sha256:${hex}` });
  }
  return out;
}
