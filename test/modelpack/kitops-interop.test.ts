import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { LayoutTarget } from '../../modules/oci/layout.js';
import { packModel, unpack } from '../../modules/modelpack/index.js';
import { loadSpec } from '../../modules/project/index.js';
import { tempDir, writeTree } from './helpers.js';
import { vectorPath } from '../helpers/vectors.js';

interface PackUnpackCase {
  description: string;
  kitfile: string;
  kitignore?: string;
  files?: string[];
  ignored?: string[];
}

async function listFiles(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(root, p)));
    else out.push(p);
  }
  return out.sort();
}

const dir = vectorPath('kitops');
const cases = (await readdir(dir)).filter((n) => n.startsWith('pack-unpack__') && n.endsWith('.yaml')).sort();

describe("KitOps' pack/unpack cases (paths, ignores, intersecting paths)", () => {
  it('finds the recorded cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
  });

  for (const name of cases) {
    it(name, async () => {
      const c = parse(await readFile(join(dir, name), 'utf8')) as PackUnpackCase;
      const files = (c.files ?? []).map((f) => f.replace(/^\.\//, ''));
      const ignored = (c.ignored ?? []).map((f) => f.replace(/^\.\//, ''));
      const src = await tempDir('modelship-kit-');
      const tree: Record<string, string> = { Kitfile: c.kitfile };
      if (c.kitignore) tree['.kitignore'] = c.kitignore;
      for (const f of [...files, ...ignored]) tree[f] = `content of ${f}\n`;
      await writeTree(src, tree);
      const spec = await loadSpec(src);
      const store = new LayoutTarget(join(await tempDir(), 'layout'));
      if (files.length === 0) {
        // kit refuses to pack nothing; so do we, with a clear error.
        await expect(packModel(spec, store, { tag: 'v1' })).rejects.toMatchObject({ code: expect.stringMatching(/^SPEC_/) });
        return;
      }
      await packModel(spec, store, { tag: 'v1' });
      const out = join(await tempDir(), 'out');
      await unpack(store, 'v1', out);
      expect(await listFiles(out)).toEqual([...files].sort());
      for (const f of files) expect(await readFile(join(out, f), 'utf8')).toBe(`content of ${f}\n`);
    });
  }
});
