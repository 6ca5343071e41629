import { mkdtemp, mkdir, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { validateCycloneDx, validateSpdx } from '../../modules/sbom/index.js';
import { sha256Hex } from './fixtures.js';

async function run(args: string[], cwd: string) {
  const { code: status, stdout, stderr } = await runCli(args, { cwd, env: { CI: '1' } });
  return { status, stdout, stderr };
}

describe('modelship sbom', () => {
  let dir: string;
  const weights = new Uint8Array([71, 71, 85, 70, 3, 0, 0, 0, 1, 2, 3]);
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sbom-cli-'));
    await mkdir(path.join(dir, 'data'));
    await writeFile(path.join(dir, 'model.gguf'), weights);
    await writeFile(path.join(dir, 'README.md'), '---\nlicense: mit\npipeline_tag: text-generation\n---\n# m\n');
    await writeFile(path.join(dir, 'data', 'train.csv'), 'a,b\n1,2\n');
    await writeFile(path.join(dir, 'requirements.txt'), 'numpy==1.26.4\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes a valid CycloneDX file with -o and leaves no temp file behind', async () => {
    const r = await run(['sbom', '.', '-o', 'bom.cdx.json'], dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('wrote bom.cdx.json');
    const bom = JSON.parse(await readFile(path.join(dir, 'bom.cdx.json'), 'utf8'));
    expect(validateCycloneDx(bom)).toEqual([]);
    const names = bom.components.map((c: { name: string }) => c.name);
    expect(names).toEqual(expect.arrayContaining(['model.gguf', 'README.md', 'requirements.txt', 'numpy']));
    const gguf = bom.components.find((c: { name: string }) => c.name === 'model.gguf');
    expect(gguf.hashes[0].content).toBe(sha256Hex(weights));
    expect(bom.metadata.component.licenses).toEqual([{ license: { id: 'MIT' } }]);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('prints a valid SPDX document with --json, the same bytes each run when SOURCE_DATE_EPOCH pins the time', async () => {
    const pinned = { CI: '1', SOURCE_DATE_EPOCH: '1767225600' };
    const a = await runCli(['sbom', dir, '--format', 'spdx', '--json'], { cwd: '/', env: pinned });
    const b = await runCli(['sbom', dir, '--format', 'spdx', '--json'], { cwd: '/', env: pinned });
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const doc = JSON.parse(a.stdout);
    expect(doc['@graph'][0]).toMatchObject({ type: 'CreationInfo', created: '2026-01-01T00:00:00Z' });
    // Without it the creation time is now, never the epoch.
    const before = Date.now() - 1000;
    const now = (await run(['sbom', dir, '--format', 'spdx', '--json'], '/')).stdout;
    expect(Date.parse(JSON.parse(now)['@graph'][0].created)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(validateSpdx(doc)).toEqual([]);
    expect(doc['@graph'].filter((e: { type: string }) => e.type === 'dataset_DatasetPackage')).toHaveLength(1);
  });

  it('rejects an unknown format and a missing folder with their exit statuses (usage 2, not found 4)', async () => {
    const bad = await run(['sbom', dir, '--format', 'swid'], dir);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--format must be one of cyclonedx, spdx');
    const missing = await run(['sbom', path.join(dir, 'nope')], dir);
    expect(missing.status).toBe(4);
    expect(missing.stderr).toContain('nope');
  });
});
