/**
 * modctl v0.2.2 (modelpack/modctl, the ModelPack reference CLI) reads what modelship pushes
 * (`pull`, `extract`, `inspect`), and modelship reads, unpacks, signs and verifies what
 * `modctl build` + `push` writes; a blob changed on the registry's disk is refused by both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCli } from '../helpers/cli.js';
import { JUDGE_TEST_TIMEOUT, runJudge } from '../helpers/judges.js';
import { startRegistry, type RunningRegistry } from '../helpers/registry.js';
import { busyboxBase } from '../modelpack/busybox.js';
import { bytesOf, writeTree } from '../modelpack/helpers.js';

let work: string;
let env: NodeJS.ProcessEnv;
let registry: RunningRegistry;
let project: string;

const ours = (args: string[], home = 'home') =>
  runCli(args, { env: { ...env, MODELSHIP_HOME: join(work, home) }, cwd: work, stdin: Object.assign(new PassThrough(), { isTTY: false }) });

async function must(args: string[], home?: string) {
  const res = await ours(args, home);
  if (res.code !== 0) throw new Error(`modelship ${args.join(' ')} failed (${res.code}): ${res.stderr}${res.stdout}`);
  return res;
}

/** modctl with its own storage and logs in the test folder, never ~/.modctl. */
const modctl = (args: string[], cwd = work) =>
  runJudge('modctl', ['--storage-dir', join(work, 'modctl'), '--log-dir', join(work, 'modctl-logs'), '--no-progress', ...args], { cwd, env: { HOME: work }, timeoutMs: 220_000 });

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

async function expectSameFiles(actual: string, expected: string, leaveOut: string[] = []) {
  const files = (await filesUnder(expected)).filter((f) => !leaveOut.includes(f));
  expect(await filesUnder(actual)).toEqual(files);
  for (const f of files) expect(await readFile(join(actual, f)), f).toEqual(await readFile(join(expected, f)));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'judge-modctl-'));
  env = { HOME: work };
  registry = await startRegistry();
  project = join(work, 'modctl-chat');
  await must(['example', project]);
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('modctl v0.2.2 reads what modelship pushes', { timeout: JUDGE_TEST_TIMEOUT }, () => {
  it('pulls, extracts our files byte for byte, and inspects the digest and layers we wrote', async () => {
    const ref = `${registry.host}/judges/modctl-read:v1`;
    await must(['pack', project, '-t', ref]);
    await must(['push', ref, '--plain-http']);
    const manifest = (await must(['inspect', ref, '--plain-http', '--json'])).json();
    const pull = await modctl(['pull', '--plain-http', ref]);
    expect(pull.exitCode, pull.output).toBe(0);
    const out = join(work, 'modctl-extracted');
    const extract = await modctl(['extract', ref, '--output', out]);
    expect(extract.exitCode, extract.output).toBe(0);
    await expectSameFiles(out, project, ['modelship.yaml']);

    const inspect = await modctl(['inspect', ref]);
    expect(inspect.exitCode, inspect.output).toBe(0);
    const seen = JSON.parse(inspect.stdout) as { Digest: string; Name: string; Format: string; Layers: { Digest: string; Filepath: string }[] };
    // modctl reports the digest of its own re-encoding of the manifest: ours, since our annotations are in Go's map order.
    expect(seen.Digest).toBe(manifest.digest);
    expect(seen).toMatchObject({ Name: 'tiny-chat', Format: 'gguf' });
    const layers = (manifest.manifest ?? manifest).layers as { digest: string; annotations: Record<string, string> }[];
    expect(seen.Layers.map((l) => [l.Filepath, l.Digest])).toEqual(layers.map((l) => [l.annotations['org.cncf.model.filepath'], l.digest]));
  });
});

describe('modctl v0.2.2 reads the ModelPack manifest of a ModelCar whose folders are grouped', { timeout: JUDGE_TEST_TIMEOUT }, () => {
  it('pulls and extracts a folder layer of 300 files byte for byte (pkg/archiver Untar writes every tar entry)', async () => {
    const context = join(work, 'grouped');
    const files: Record<string, string | Uint8Array> = { 'model.gguf': bytesOf(40_000, 7), 'config.json': '{"model_type":"llama"}\n' };
    for (let i = 0; i < 300; i++) files[`data/${i % 2 ? 'test' : 'train'}/part-${String(i).padStart(3, '0')}.jsonl`] = `{"i":${i}}\n`;
    await writeTree(context, { ...files, Modelfile: 'NAME grouped\nMODEL model.gguf\nCONFIG config.json\nDATASET data\n' });
    const busybox = await busyboxBase();
    const packed = (await must(['pack', context, '-t', 'grouped:car', '--modelcar', '--modelcar-base', `oci:${busybox.location}:latest`, '--json'])).json();
    const layers = packed.layers as { path: string; files?: number }[];
    expect(layers.map((l) => [l.path, l.files ?? 1])).toEqual([['config.json', 1], ['data', 300], ['model.gguf', 1]]);
    // modctl reads a manifest by tag (pkg/backend/pull.go FetchReference(tag)), not an index: the ModelPack manifest gets its own.
    const ref = `${registry.host}/judges/modctl-grouped:modelpack`;
    await must(['push', `grouped:car@${packed.modelpack}`, ref, '--plain-http']);
    const pull = await modctl(['pull', '--plain-http', ref]);
    expect(pull.exitCode, pull.output).toBe(0);
    const out = join(work, 'grouped-extracted');
    const extract = await modctl(['extract', ref, '--output', out]);
    expect(extract.exitCode, extract.output).toBe(0);
    await expectSameFiles(join(out, 'models'), context, ['Modelfile']);
    const inspect = await modctl(['inspect', ref]);
    expect(inspect.exitCode, inspect.output).toBe(0);
    const seen = JSON.parse(inspect.stdout) as { Digest: string; Layers: { Filepath: string }[] };
    expect(seen.Digest).toBe(packed.modelpack);
    expect(seen.Layers.map((l) => l.Filepath)).toEqual(['models/config.json', 'models/data', 'models/model.gguf']);
  });
});

describe('modelship reads what modctl v0.2.2 builds and pushes', { timeout: JUDGE_TEST_TIMEOUT }, () => {
  it('pulls, inspects, unpacks byte for byte, signs and verifies it; another key is refused', async () => {
    const ref = `${registry.host}/judges/modctl-built:v1`;
    const context = join(work, 'modctl-context');
    await cp(project, context, { recursive: true });
    await rm(join(context, 'modelship.yaml'), { force: true });
    await writeFile(join(context, 'config.json'), '{"model_type":"llama","built_by":"modctl"}\n');
    const generate = await modctl(['modelfile', 'generate', '.'], context);
    expect(generate.exitCode, generate.output).toBe(0);
    const build = await modctl(['build', '-t', ref, '-f', 'Modelfile', '.'], context);
    expect(build.exitCode, build.output).toBe(0);
    const push = await modctl(['push', '--plain-http', ref]);
    expect(push.exitCode, push.output).toBe(0);

    const pulled = await must(['pull', ref, '--plain-http', '--json'], 'reader');
    const inspected = (await must(['inspect', ref, '--plain-http', '--json'], 'reader')).json();
    expect(inspected.digest).toBe(pulled.json().digest);
    const out = join(work, 'unpacked-from-modctl');
    await must(['unpack', ref, '-d', out, '--plain-http'], 'reader');
    await expectSameFiles(out, context, ['Modelfile']);

    await must(['keys', 'generate', '-o', join(work, 'reader')], 'reader');
    await must(['keys', 'generate', '-o', join(work, 'stranger')], 'reader');
    await must(['sign', ref, '--key', join(work, 'reader.key')], 'reader');
    const verified = await ours(['verify', ref, '--local', '--plain-http', '--key', join(work, 'reader.pub')], 'reader');
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect((await ours(['verify', ref, '--local', '--plain-http', '--key', join(work, 'stranger.pub')], 'reader')).code).toBe(8);
  });
});

describe('modctl v0.2.2 and modelship refuse a changed blob', { timeout: JUDGE_TEST_TIMEOUT }, () => {
  it('refuses, as modelship does, a blob changed on the registry disk (after six tries: pkg/backend/retry.go)', async () => {
    const ref = `${registry.host}/judges/modctl-tampered:v1`;
    await writeFile(join(project, 'config.json'), '{"tampered":true}\n');
    await must(['pack', project, '-t', ref]);
    await must(['push', ref, '--plain-http']);
    const manifest = (await must(['inspect', ref, '--plain-http', '--json'])).json();
    const layers = (manifest.manifest ?? manifest).layers as { digest: string; annotations: Record<string, string> }[];
    // config.json's blob is this model's alone, so the other tests' blobs stay intact.
    const hex = layers.find((l) => l.annotations['org.cncf.model.filepath'] === 'config.json')!.digest.slice('sha256:'.length);
    const blob = join(registry.root, 'data', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
    const bytes = await readFile(blob);
    bytes[0] ^= 0xff;
    await writeFile(blob, bytes);
    const pull = await modctl(['pull', '--plain-http', ref]);
    expect(pull.exitCode).not.toBe(0);
    expect(pull.output).toMatch(/digest|mismatch|verif/i);
    expect((await ours(['pull', ref, '--plain-http'], 'other-home')).code).toBe(7);
  });
});
