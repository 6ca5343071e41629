import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeExampleProject } from '../../modules/example/index.js';
import { validateGguf, CANNED_SENTENCE } from '../../modules/gguf/index.js';
import { deriveMof, scanProject } from '../../modules/card/index.js';
import { hasCode } from '../../modules/errors/index.js';

describe('example project', () => {
  it('writes a valid GGUF and a project the MOF rates Class III', async () => {
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'modelship-example-')), 'tiny-chat');
    const project = await writeExampleProject(dir);
    expect(project.files).toContain('model/tiny-chat.gguf');
    await validateGguf(project.modelFile);
    expect(await readFile(path.join(dir, 'README.md'), 'utf8')).toContain(CANNED_SENTENCE);
    const mof = deriveMof(await scanProject(dir));
    expect(mof.evaluation.class).toBe(3);
  });

  it('refuses a folder that is not empty and leaves it as it was', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'modelship-example-'));
    await writeFile(path.join(dir, 'keep.txt'), 'mine');
    const err = await writeExampleProject(dir).catch((e: unknown) => e);
    expect(hasCode(err, 'SPEC_EXISTS')).toBe(true);
    expect(await readFile(path.join(dir, 'keep.txt'), 'utf8')).toBe('mine');
  });
});
