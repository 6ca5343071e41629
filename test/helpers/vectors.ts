/** Upstream test vectors copied into the repository (test/vectors/<source>/, each with its licence and PROVENANCE.md). */
import { resolve } from 'node:path';

export const vectorsDir = resolve(import.meta.dirname, '..', 'vectors');

/** Absolute path of a file or folder under test/vectors. */
export function vectorPath(...parts: string[]): string {
  return resolve(vectorsDir, ...parts);
}
