import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LayoutTarget, copy, digestOf, fetchManifest } from '../../modules/oci/index.js';
import { pushImage, sampleImage, tempDir } from './fixtures.js';

const run = promisify(execFile);

describe('layouts and skopeo/umoci agree', () => {
  it('skopeo reads a layout we write, copies it, and we read what skopeo wrote', async () => {
    const ours = await tempDir();
    const layout = new LayoutTarget(ours);
    const image = sampleImage([2048, 70_000]);
    await pushImage(layout, image, 'v1');

    const { stdout: raw } = await run('skopeo', ['inspect', '--raw', `oci:${ours}:v1`]);
    expect(digestOf(Buffer.from(raw))).toBe(image.descriptor.digest);

    const theirs = await tempDir();
    await run('skopeo', ['copy', '--quiet', '--preserve-digests', `oci:${ours}:v1`, `oci:${theirs}:copied`]);
    const read = new LayoutTarget(theirs);
    const desc = await read.resolve('copied');
    expect(desc.digest).toBe(image.descriptor.digest);
    const manifest = await fetchManifest(read, desc, theirs);
    expect('layers' in manifest && manifest.layers.map((l) => l.digest)).toEqual(image.manifest.layers.map((l) => l.digest));

    // and copy it back with our copy into a third layout
    const back = new LayoutTarget(await tempDir());
    const result = await copy(read, 'copied', back, 'back');
    expect(result.root.digest).toBe(image.descriptor.digest);
    expect(result.copied).toBe(4);
    const { stdout: again } = await run('skopeo', ['inspect', '--raw', `oci:${back.root}:back`]);
    expect(digestOf(Buffer.from(again))).toBe(image.descriptor.digest);
  });

  it('umoci lists the tags of a layout we write', async () => {
    const dir = await tempDir();
    const layout = new LayoutTarget(dir);
    await pushImage(layout, sampleImage([10]), 'one');
    await pushImage(layout, sampleImage([10]), 'two');
    const { stdout } = await run('umoci', ['ls', '--layout', dir]);
    expect(stdout.trim().split('\n').sort()).toEqual(['one', 'two']);
    expect(JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')).manifests).toHaveLength(2);
  });
});
