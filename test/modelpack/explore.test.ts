import { join } from 'node:path';
import { execa } from 'execa';
import { it } from 'vitest';
import { LayoutTarget } from '../../modules/oci/layout.js';
import { packModel } from '../../modules/modelpack/index.js';
import { busyboxBase } from './busybox.js';
import { bytesOf, specFor, tempDir, writeTree } from './helpers.js';

it('explore', async () => {
  const src = await tempDir();
  await writeTree(src, { 'model.gguf': bytesOf(2000, 9), 'README.md': '# car\n' });
  const root = join(await tempDir(), 'store');
  const store = new LayoutTarget(root);
  await packModel(specFor(src, [{ kind: 'weight', path: 'model.gguf' }, { kind: 'doc', path: 'README.md' }]), store, { tag: 'car', modelcar: { target: await busyboxBase(), reference: 'latest' } });
  console.log(root);
  const r = await execa('umoci', ['unpack', '--rootless', '--image', `${root}:car`, join(await tempDir(), 'b')], { reject: false });
  console.log(r.exitCode, r.stderr);
});
