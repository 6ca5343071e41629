/**
 * The store under concurrent and interrupted runs: `prune` while `pack` runs in another process,
 * and the temp files a `kill -9` leaves behind.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { describe, expect, it } from 'vitest';
import { CLI_PROCESS, runCli } from '../helpers/cli.js';
import { openStore, pruneStore } from '../../modules/store/index.js';
import { tempDir, writeTree } from '../modelpack/helpers.js';

const MIB = 1024 * 1024;

async function modelWith(weights: number, size: number): Promise<{ dir: string; files: Record<string, Buffer> }> {
  const dir = await tempDir('modelship-concurrent-');
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < weights; i++) files[`w-${i}.safetensors`] = randomBytes(size);
  await writeTree(dir, { ...files, 'modelship.yaml': 'name: tiny\nlicense: Apache-2.0\nweights:\n  - "*.safetensors"\n' });
  return { dir, files };
}

function packProcess(dir: string, env: NodeJS.ProcessEnv, tag: string): ResultPromise<{ reject: false }> {
  return execa(CLI_PROCESS.command, CLI_PROCESS.args(['pack', dir, '-t', tag, '--json']), { env: { ...env, CI: '1' }, cwd: dir, reject: false });
}

const ingestFiles = async (home: string): Promise<string[]> => (await readdir(join(home, 'store', 'ingest')).catch(() => [] as string[])).sort();

describe('prune while pack runs', () => {
  it('spares every blob the running pack stored, so pack and unpack succeed', async () => {
    const home = await tempDir('modelship-home-');
    const env = { MODELSHIP_HOME: home, HOME: home };
    const { dir, files } = await modelWith(8, 4 * MIB);
    const child = packProcess(dir, env, 'tiny:v1');
    let running = true;
    void child.finally(() => {
      running = false;
    });
    const store = openStore(env);
    const removed: string[] = [];
    let kept = 0;
    while (running) {
      const result = await pruneStore(store);
      removed.push(...result.removedBlobs);
      kept = Math.max(kept, result.keptForWrites);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const packed = await child;
    expect(packed.exitCode, packed.stderr).toBe(0);
    expect(removed).toEqual([]);
    // prune did see the pack's blobs before they were tagged, and left them.
    expect(kept).toBeGreaterThan(0);
    const out = join(await tempDir(), 'out');
    const unpacked = await runCli(['unpack', 'tiny:v1', '-d', out, '--json'], { env: { ...env, CI: '1' }, cwd: dir });
    expect(unpacked.code, unpacked.stderr).toBe(0);
    for (const [name, bytes] of Object.entries(files)) expect(Buffer.compare(await readFile(join(out, name)), bytes), name).toBe(0);
    expect(await ingestFiles(home)).toEqual([]);
  }, 60_000);
});

/** Command lines of the processes (other than this one) that name `path`. */
async function processesNaming(path: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(path)) found.push(cmdline.split('\0').join(' '));
  }
  return found;
}

describe('temp files of a killed pack', () => {
  /** Starts a pack and kills it with SIGKILL while it is writing into ingest/. */
  async function killMidIngest(dir: string, env: NodeJS.ProcessEnv): Promise<string[]> {
    const child = packProcess(dir, env, 'big:v1');
    const deadline = Date.now() + 45_000;
    let parts: string[] = [];
    while (Date.now() < deadline && child.exitCode === null) {
      parts = (await ingestFiles(env['MODELSHIP_HOME']!)).filter((n) => !n.endsWith('.lease'));
      if (parts.length) break;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    child.kill('SIGKILL');
    const ended = await child;
    expect(ended.signal, `pack ended on its own: ${ended.stderr}`).toBe('SIGKILL');
    expect(parts.length, 'pack finished before a temp file was seen').toBeGreaterThan(0);
    return ingestFiles(env['MODELSHIP_HOME']!);
  }

  it('are cleared by prune, and by the next pack', async () => {
    const home = await tempDir('modelship-home-');
    const env = { MODELSHIP_HOME: home, HOME: home };
    const { dir } = await modelWith(4, 48 * MIB);

    const left = await killMidIngest(dir, env);
    let leftBytes = 0;
    for (const name of left) if (name.endsWith('.part')) leftBytes += (await stat(join(home, 'store', 'ingest', name))).size;
    const pruned = await runCli(['prune', '--json'], { env: { ...env, CI: '1' }, cwd: dir });
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.json().removedTemp).toEqual(left);
    expect(pruned.json().tempBytes).toBe(leftBytes);
    expect(await ingestFiles(home)).toEqual([]);

    expect((await killMidIngest(dir, env)).length).toBeGreaterThan(0);
    const packed = await runCli(['pack', dir, '-t', 'big:v1', '--json'], { env: { ...env, CI: '1' }, cwd: dir });
    expect(packed.code, packed.stderr).toBe(0);
    expect(await ingestFiles(home)).toEqual([]);
  }, 120_000);

  it('leave no copy running: the cp a pack started dies with it', async () => {
    const home = await tempDir('modelship-home-');
    const env = { MODELSHIP_HOME: home, HOME: home };
    // One weight large enough that its kernel copy lasts well past the kill (about 0.5 s here).
    const dir = await tempDir('modelship-concurrent-');
    const block = randomBytes(16 * MIB);
    const weight = await open(join(dir, 'w.safetensors'), 'w');
    for (let i = 0; i < 48; i++) await weight.write(block);
    await weight.close();
    await writeTree(dir, { 'modelship.yaml': 'name: tiny\nlicense: Apache-2.0\nweights:\n  - "*.safetensors"\n' });
    const left = await killMidIngest(dir, env);
    const sizes = async () => Promise.all(left.filter((n) => n.endsWith('.part')).map(async (n) => (await stat(join(home, 'store', 'ingest', n))).size));
    const atKill = await sizes();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await processesNaming(home)).toEqual([]);
    // A cp left running would have gone on filling the temp file.
    expect(await sizes()).toEqual(atKill);
    expect(atKill.every((size) => size < 768 * MIB)).toBe(true);
  }, 60_000);
});
