import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { vectorPath } from '../helpers/vectors.js';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const interop = vectorPath();
export const omsInterop = join(interop, 'oms');

/** A small model folder with a nested file, in its own temp dir. */
export async function makeModel(name = 'tiny-model'): Promise<string> {
  const base = await mkdtemp(join(tmpdir(), 'sign-test-'));
  const root = join(base, name);
  await mkdir(join(root, 'weights'), { recursive: true });
  await writeFile(join(root, 'config.json'), '{"layers":2}\n');
  await writeFile(join(root, 'weights', 'model.bin'), Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251)));
  await writeFile(join(root, 'README.md'), '# tiny\n');
  return root;
}
