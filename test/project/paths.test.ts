import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModelshipYaml, specEntryMatcher } from '../../modules/project/index.js';
import { resolveSpecFiles } from '../../modules/modelpack/index.js';
import { sbomInputFromProject } from '../../modules/sbom/index.js';
import { scanProject } from '../../modules/card/index.js';

describe('which spec entry claims a file', () => {
  it('is the most specific path, the first listed among equals', () => {
    const entryFor = specEntryMatcher([
      { path: '.', kind: 'code' },
      { path: '*.bin', kind: 'dataset' },
      { path: 'model', kind: 'weightConfig' },
      { path: 'model/weights.bin', kind: 'weight' },
      { path: 'docs', kind: 'doc' },
      { path: 'docs/', kind: 'code' },
    ]);
    expect(entryFor('model/weights.bin')?.kind).toBe('weight');
    expect(entryFor('model/config.json')?.kind).toBe('weightConfig');
    expect(entryFor('docs/a.md')?.kind).toBe('doc');
    expect(entryFor('x.bin')?.kind).toBe('code');
    expect(specEntryMatcher([{ path: 'a' }])('b')).toBeUndefined();
  });

  it('gives packing, the SBOM and the MOF facts the same kinds', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'spec-paths-'));
    await mkdir(path.join(dir, 'model'));
    await writeFile(path.join(dir, 'model', 'weights.bin'), 'w');
    await writeFile(path.join(dir, 'train.py'), 'print(1)\n');
    const file = path.join(dir, 'modelship.yaml');
    const text = 'name: agree\nfiles:\n  - {path: ., kind: code}\n  - {path: model/weights.bin, kind: weight}\n';
    await writeFile(file, text);
    const spec = parseModelshipYaml(text, { file, contextDir: dir });
    const kinds = (files: { path: string; kind?: string }[]) => Object.fromEntries(files.filter((f) => f.path !== 'modelship.yaml').map((f) => [f.path, f.kind]));
    const packed = kinds(await resolveSpecFiles(spec));
    expect(packed).toEqual({ 'model/weights.bin': 'weight', 'train.py': 'code' });
    expect(kinds((await sbomInputFromProject(dir, spec)).files)).toEqual(packed);
    expect(kinds((await scanProject(dir, spec)).files)).toEqual(packed);
  });
});
