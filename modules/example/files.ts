/** Writing an example project: a new or empty folder only, then each file with its parent folders. */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ModelshipError } from '../errors/index.js';

export async function requireEmptyFolder(dir: string, what: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length > 0) throw new ModelshipError('SPEC_EXISTS', `${dir} is not empty: give a new folder for ${what}`);
}

export async function writeProjectFiles(dir: string, files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
}
