import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findSpecFile, loadSpec } from '../../modules/project/index.js';
import { hasCode } from '../../modules/errors/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'spec-load-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const put = (name: string, text: string) => writeFile(path.join(dir, name), text);

describe('loadSpec', () => {
  it('prefers modelship.yaml over a Kitfile and a Modelfile, and says so', async () => {
    await put('Modelfile', 'NAME from-modelfile\n');
    await put('Kitfile', 'manifestVersion: 1.0\npackage:\n  name: from-kitfile\n');
    await put('modelship.yaml', 'name: from-modelship\n');
    const notes: string[] = [];
    const spec = await loadSpec(dir, undefined, { onNote: (n) => notes.push(n) });
    expect(spec.descriptor.name).toBe('from-modelship');
    expect(spec.source).toEqual({ format: 'modelship', file: path.join(dir, 'modelship.yaml') });
    expect(notes).toEqual(['using modelship.yaml; also present and not read: Kitfile, Modelfile']);
  });
  it('takes a Kitfile before a Modelfile', async () => {
    await put('Modelfile', 'NAME from-modelfile\n');
    await put('Kitfile', 'manifestVersion: 1.0\npackage:\n  name: from-kitfile\n');
    expect((await loadSpec(dir)).source.format).toBe('kitfile');
    expect((await findSpecFile(dir))?.others).toEqual([path.join(dir, 'Modelfile')]);
  });
  it('-f picks a file, relative to the folder', async () => {
    await put('modelship.yaml', 'name: a\n');
    await put('Modelfile.prod', 'NAME b\n');
    const spec = await loadSpec(dir, 'Modelfile.prod');
    expect(spec.descriptor.name).toBe('b');
    expect(spec.contextDir).toBe(dir);
  });
  it('-f naming a missing file is SPEC_NOT_FOUND', async () => {
    await expect(loadSpec(dir, 'nope.yaml')).rejects.toSatisfy((e) => hasCode(e, 'SPEC_NOT_FOUND'));
  });
  it('a folder that does not exist is SPEC_NOT_FOUND naming it, not an internal error', async () => {
    const missing = path.join(dir, 'nope');
    const err = await loadSpec(missing).catch((e: unknown) => e);
    expect(hasCode(err, 'SPEC_NOT_FOUND')).toBe(true);
    expect((err as Error).message).toContain(missing);
  });
  it('adds .modelshipignore and .kitignore patterns to the spec ignore list', async () => {
    await put('Kitfile', 'manifestVersion: 1.0\ncode:\n  - path: .\n');
    await put('.kitignore', '# comment\n*.log\n\n!keep.log\n');
    await put('.modelshipignore', 'checkpoints/\n');
    expect((await loadSpec(dir)).ignore).toEqual(['checkpoints/', '*.log', '!keep.log']);
  });
  it('describes a folder with no spec file from its files', async () => {
    await put('model.gguf', 'GGUF');
    const spec = await loadSpec(dir);
    expect(spec.source.format).toBe('none');
    expect(spec.files).toEqual([{ kind: 'weight', path: 'model.gguf' }]);
  });
  it('reports a bad spec with its absolute path and line', async () => {
    await put('Modelfile', 'NAME x\nBOGUS y\n');
    await expect(loadSpec(dir)).rejects.toThrow(`${path.join(dir, 'Modelfile')}:2: unknown directive "BOGUS"`);
  });
});
