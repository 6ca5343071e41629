/**
 * `modelship import hf://…` against a loopback Hub (test/helpers/hub-server.ts, shaped by the recorded
 * answers in test/vectors/huggingface): the artifact pack would build, a cut download resumed, a wrong
 * SHA-256 refused with nothing stored, gated repositories, a branch moved mid-import.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { importFromHub } from '../../modules/hub/index.js';
import { LayoutTarget } from '../../modules/oci/layout.js';
import { runCli } from '../helpers/cli.js';
import { commitSha, startFakeHub, type FakeHub, type HubFileSpec } from '../helpers/hub-server.js';
import { bytesOf, writeTree } from '../modelpack/helpers.js';

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A valid safetensors file: one F32 tensor of `n` values. */
function safetensors(n: number, seed: number): Buffer {
  const header = Buffer.from(JSON.stringify({ 'model.embed.weight': { dtype: 'F32', shape: [n], data_offsets: [0, n * 4] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([len, header, Buffer.from(bytesOf(n * 4, seed))]);
}

const README = `---
license: apache-2.0
language:
- en
datasets:
- acme/corpus
base_model: acme/base-1b
pipeline_tag: text-generation
---
# tiny-llm

A tiny model for tests.
`;

function filesOf(seed: number): HubFileSpec[] {
  return [
    { path: '.gitattributes', content: Buffer.from('*.safetensors filter=lfs diff=lfs merge=lfs -text\n') },
    { path: 'README.md', content: Buffer.from(README) },
    { path: 'LICENSE', content: Buffer.from('Apache License\nVersion 2.0, January 2004\n') },
    { path: 'config.json', content: Buffer.from(JSON.stringify({ model_type: 'llama', architectures: ['LlamaForCausalLM'], torch_dtype: 'bfloat16' })) },
    { path: 'tokenizer.json', content: Buffer.from(JSON.stringify({ version: '1.0', seed })) },
    { path: 'model.safetensors', content: safetensors(400_000, seed), lfs: true },
    { path: 'gguf/tiny-Q4_K_M.gguf', content: Buffer.from(bytesOf(300_000, seed + 10)), lfs: true },
    { path: 'gguf/tiny-Q8_0.gguf', content: Buffer.from(bytesOf(500_000, seed + 20)), lfs: true },
  ];
}

const SHA_A = commitSha();
const SHA_B = commitSha();
let hub: FakeHub;
let home: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  hub = await startFakeHub([
    { repo: 'acme/tiny-llm', commits: { [SHA_A]: filesOf(1), [SHA_B]: filesOf(2) }, refs: { main: SHA_A, v1: SHA_A } },
    { repo: 'acme/gated-llm', commits: { [SHA_A]: filesOf(3) }, refs: { main: SHA_A }, gated: true, allowedTokens: ['hf_granted'] },
  ]);
});
afterAll(async () => hub.close());
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'modelship-hub-'));
  env = { MODELSHIP_HOME: home, HF_ENDPOINT: hub.endpoint };
  hub.requests.length = 0;
  hub.treePageSize = 1000;
  hub.setRef('acme/tiny-llm', 'main', SHA_A);
});
afterEach(async () => rm(home, { recursive: true, force: true }));

const original = (seed: number, path: string) => filesOf(seed).find((f) => f.path === path)!.content;
/** What a failed run said: with --json the error is JSON on stdout. */
const said = (run: { stdout: string; stderr: string }) => run.stdout + run.stderr;
const importCli = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(['import', ...args, '--json'], { env: { ...env, ...extra }, cwd: home });

async function storeLeftovers(): Promise<{ blobs: string[]; parts: string[]; index: string }> {
  const root = join(home, 'store');
  const blobs = existsSync(join(root, 'blobs', 'sha256')) ? await readdir(join(root, 'blobs', 'sha256')) : [];
  const ingest = join(root, 'ingest');
  const parts = existsSync(ingest) ? (await readdir(ingest)).filter((n) => !n.endsWith('.lease')) : [];
  const index = existsSync(join(root, 'index.json')) ? await readFile(join(root, 'index.json'), 'utf8') : '';
  return { blobs, parts, index };
}

describe('modelship import', () => {
  it('gives the artifact pack gives for the same files, pinned to the commit, its source recorded', async () => {
    hub.treePageSize = 3; // the listing comes in pages linked by a Link header
    const run = await importCli(['hf://acme/tiny-llm', '--exclude', 'gguf/*']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = run.json();
    expect(out.commit).toBe(SHA_A);
    expect(out.reference).toBe('acme/tiny-llm:main');
    expect(out.source).toBe(`hf://acme/tiny-llm@${SHA_A}`);
    expect(out.purl).toBe(`pkg:huggingface/acme/tiny-llm@${SHA_A}`);
    expect(out.skipped).toEqual(['.gitattributes', 'gguf/tiny-Q4_K_M.gguf', 'gguf/tiny-Q8_0.gguf']);
    // Each layer digest is the file's SHA-256: the LFS oid for the weights, computed while streaming for the rest.
    for (const l of out.layers) expect(l.digest).toBe(sha256(original(1, l.path)));
    expect(out.config.descriptor).toMatchObject({ name: 'tiny-llm', vendor: 'acme', revision: SHA_A, licenses: ['Apache-2.0'], sourceURL: `${hub.endpoint}/acme/tiny-llm/tree/${SHA_A}` });
    expect(out.config.config).toMatchObject({ architecture: 'llama', format: 'safetensors', precision: 'fp32', paramSize: '400K', capabilities: { inputTypes: ['text'], outputTypes: ['text'], languages: ['en'] } });
    // The token never goes to the CDN; every file request names the commit, never the branch.
    expect(hub.requests.filter((r) => r.origin === 'cdn').every((r) => r.authorization === undefined)).toBe(true);
    expect(hub.requests.filter((r) => r.url.includes('/resolve/')).every((r) => r.url.includes(`/resolve/${SHA_A}/`))).toBe(true);
    expect(hub.requests.filter((r) => r.url.includes('/tree/')).length).toBe(3);

    // pack of a folder holding the same files gives the same layers (media types, digests, annotations, order).
    const folder = await mkdtemp(join(tmpdir(), 'modelship-hub-folder-'));
    await writeTree(folder, Object.fromEntries(filesOf(1).filter((f) => !f.path.startsWith('gguf/') && f.path !== '.gitattributes').map((f) => [f.path, f.content])));
    const packed = await runCli(['pack', folder, '-t', 'tiny-folder:v1', '--json'], { env, cwd: home });
    expect(packed.code).toBe(0);
    const inspect = async (ref: string) => JSON.parse((await runCli(['inspect', ref, '--json'], { env, cwd: home })).stdout);
    const [imported, fromFolder] = [await inspect('acme/tiny-llm:main'), await inspect('tiny-folder:v1')];
    expect(imported.manifest.layers).toEqual(fromFolder.manifest.layers);
    expect(imported.manifest.artifactType).toBe(fromFolder.manifest.artifactType);
    expect(imported.manifest.annotations).toMatchObject({ 'dev.modelship.source': `hf://acme/tiny-llm@${SHA_A}`, 'org.opencontainers.image.revision': SHA_A });
    await rm(folder, { recursive: true, force: true });
  });

  it('names the Hub commit in the SBOM (purl pkg:huggingface) and classifies MOF from the imported card', async () => {
    expect((await importCli(['hf://acme/tiny-llm@v1', '--exclude', 'gguf/*'])).code).toBe(0);
    const sbom = await runCli(['sbom', 'acme/tiny-llm:v1', '--json'], { env, cwd: home });
    expect(sbom.stdout.slice(0, 600)).not.toContain('"error"');
    expect(sbom.code, sbom.stdout.slice(0, 1500)).toBe(0);
    const bom = sbom.json();
    const model = bom.metadata.component;
    expect(model.pedigree.ancestors[0].purl).toBe(`pkg:huggingface/acme/tiny-llm@${SHA_A}`);
    expect(model.externalReferences).toContainEqual(expect.objectContaining({ type: 'distribution', url: `hf://acme/tiny-llm@${SHA_A}` }));
    const spdx = await runCli(['sbom', 'acme/tiny-llm:v1', '--format', 'spdx', '--json'], { env, cwd: home });
    expect(spdx.code, spdx.stdout.slice(0, 1500)).toBe(0);
    const aiPackage = spdx.json()['@graph'].find((e: { type: string }) => e.type === 'ai_AIPackage');
    expect(aiPackage.externalIdentifier).toEqual([{ type: 'ExternalIdentifier', externalIdentifierType: 'packageUrl', identifier: `pkg:huggingface/acme/tiny-llm@${SHA_A}` }]);
    const mof = await runCli(['mof', 'acme/tiny-llm:v1', '--json'], { env, cwd: home });
    expect(mof.code, mof.stdout.slice(0, 1500)).toBe(0);
    const names = mof.json().components.map((c: { name: string }) => c.name);
    expect(names).toEqual(expect.arrayContaining(['Model parameters (Final)', 'Model card']));
    // The model card of the packed model names the Hub commit it came from, and the page at that commit.
    const card = await runCli(['card', 'acme/tiny-llm:v1'], { env, cwd: home });
    expect(card.code, card.stderr).toBe(0);
    expect(card.stdout).toContain(`- **Source:** \`hf://acme/tiny-llm@${SHA_A}\``);
    expect(card.stdout).toContain(`- **Repository:** ${hub.endpoint}/acme/tiny-llm/tree/${SHA_A}`);
  });

  it('resumes a cut download with a Range request and stores the verified file', async () => {
    hub.cutOnce.set('model.safetensors', 100_000);
    const run = await importCli(['hf://acme/tiny-llm', '--include', 'model.safetensors']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const layer = run.json().layers[0];
    expect(layer).toMatchObject({ path: 'model.safetensors', digest: sha256(original(1, 'model.safetensors')), resumed: 1, downloaded: true });
    // The second request asks for the rest from the byte the first one stopped at (what arrived before the cut).
    const ranges = hub.requests.filter((r) => r.origin === 'cdn').map((r) => r.range);
    expect(ranges).toHaveLength(2);
    expect(ranges[0]).toBeUndefined();
    const from = Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(100_000);
    expect((await storeLeftovers()).parts).toEqual([]);
  });

  it('refuses bytes whose SHA-256 is not the one the Hub lists, leaving nothing in the store', async () => {
    hub.corrupt.add('model.safetensors');
    try {
      const run = await importCli(['hf://acme/tiny-llm', '--include', 'model.safetensors']);
      expect(run.code).toBe(7);
      expect(said(run)).toContain('HF_DIGEST_MISMATCH');
      expect(said(run)).toContain(sha256(original(1, 'model.safetensors')));
      const left = await storeLeftovers();
      expect(left.blobs).toEqual([]);
      expect(left.parts).toEqual([]);
      expect(left.index).not.toContain('tiny-llm');
    } finally {
      hub.corrupt.clear();
    }
  });

  it('gives up on a connection cut on every try, and on a file served from another commit, leaving no temp file or tag', async () => {
    const store = new LayoutTarget(join(home, 'store'));
    const conn = { endpoint: hub.endpoint };
    hub.cutAlways.set('model.safetensors', 50_000);
    try {
      const cut = importFromHub({ repo: 'acme/tiny-llm', revision: 'main' }, store, { conn, include: ['model.safetensors'], attempts: 3, retryDelayMs: 5 });
      await expect(cut).rejects.toMatchObject({ code: 'HF_NETWORK', message: expect.stringContaining('failed 3 times') });
      expect(hub.requests.filter((r) => r.origin === 'cdn')).toHaveLength(3);
    } finally {
      hub.cutAlways.clear();
    }
    hub.commitHeader = SHA_B;
    try {
      await expect(importFromHub({ repo: 'acme/tiny-llm', revision: 'main' }, store, { conn, include: ['config.json'] })).rejects.toMatchObject({ code: 'HF_COMMIT_MISMATCH' });
    } finally {
      hub.commitHeader = undefined;
    }
    const left = await storeLeftovers();
    expect(left.parts).toEqual([]);
    expect(left.blobs).toEqual([]);
    expect(left.index).not.toContain('tiny-llm');
  });

  it('refuses a gated repository without a granted token, naming the licence page; imports with one', async () => {
    const page = `${hub.endpoint}/acme/gated-llm`;
    const anonymous = await importCli(['hf://acme/gated-llm', '--exclude', 'gguf/*']);
    expect(anonymous.code).toBe(5);
    expect(said(anonymous)).toContain('HF_GATED');
    expect(said(anonymous)).toContain(`accept the licence at ${page}`);
    expect(said(anonymous)).toContain('HF_TOKEN');
    expect(said(anonymous)).toContain('401');
    const refused = await importCli(['hf://acme/gated-llm', '--exclude', 'gguf/*'], { HF_TOKEN: 'hf_other' });
    expect(refused.code).toBe(5);
    expect(said(refused)).toContain('403');
    expect(said(refused)).toContain(`has no access yet: accept the licence at ${page}`);
    expect((await storeLeftovers()).index).not.toContain('gated-llm');
    hub.requests.length = 0;
    const granted = await importCli(['hf://acme/gated-llm', '--exclude', 'gguf/*'], { HF_TOKEN: 'hf_granted' });
    expect(granted.code).toBe(0);
    expect(hub.requests.filter((r) => r.origin === 'hub').every((r) => r.authorization === 'Bearer hf_granted')).toBe(true);
    expect(hub.requests.filter((r) => r.origin === 'cdn').length).toBeGreaterThan(0);
    expect(hub.requests.filter((r) => r.origin === 'cdn').every((r) => r.authorization === undefined)).toBe(true);
  });

  it('keeps the commit the revision named when the branch moves during the import', async () => {
    hub.afterRevision = () => hub.setRef('acme/tiny-llm', 'main', SHA_B);
    const run = await importCli(['hf://acme/tiny-llm@main', '--exclude', 'gguf/*']);
    expect(run.code).toBe(0);
    const out = run.json();
    expect(out.commit).toBe(SHA_A);
    for (const l of out.layers) expect(l.digest).toBe(sha256(original(1, l.path)));
    expect(hub.requests.some((r) => r.url.includes(SHA_B))).toBe(false);
  });

  it('imports one quantisation of many with --include, and skips LFS blobs the store holds', async () => {
    const run = await importCli(['hf://acme/tiny-llm', '--include', '*Q4_K_M.gguf', '--include', 'README.md', '-t', 'tiny:q4']);
    expect(run.code).toBe(0);
    expect(run.json().layers.map((l: { path: string }) => l.path)).toEqual(['README.md', 'gguf/tiny-Q4_K_M.gguf']);
    expect(run.json().reference).toBe('tiny:q4');
    hub.requests.length = 0;
    const again = await importCli(['hf://acme/tiny-llm', '--include', '*Q4_K_M.gguf', '-t', 'tiny:q4-only']);
    expect(again.json().layers[0]).toMatchObject({ downloaded: false });
    expect(hub.requests.filter((r) => r.origin === 'cdn')).toEqual([]);
  });

  it('says what is wrong with a bad source, an unknown repository or revision, or a selection of nothing', async () => {
    const bad = await importCli(['acme/tiny-llm']);
    expect(bad.code).toBe(2);
    expect(said(bad)).toContain('hf://ORG/NAME');
    const missing = await importCli(['hf://acme/nope']);
    expect(missing.code).toBe(4);
    expect(said(missing)).toContain('HF_NOT_FOUND');
    const rev = await importCli(['hf://acme/tiny-llm@no-such-branch']);
    expect(rev.code).toBe(4);
    expect(said(rev)).toContain('revision');
    const none = await importCli(['hf://acme/tiny-llm', '--include', '*.onnx']);
    expect(none.code).toBe(3);
    expect(said(none)).toContain('HF_NO_FILES');
  });
});
