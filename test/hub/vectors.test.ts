/**
 * The loopback Hub and the import's reading of the Hub, checked against the Hub's recorded answers
 * (test/vectors/huggingface, PROVENANCE.md there).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubFileOf } from '../../modules/hub/client.js';
import { parseHubSource } from '../../modules/hub/source.js';
import { selectFiles } from '../../modules/hub/import.js';
import { commitSha, lfsPointer, startFakeHub, treeEntry, type FakeHub } from '../helpers/hub-server.js';
import { vectorPath } from '../helpers/vectors.js';

const json = (name: string) => JSON.parse(readFileSync(vectorPath('huggingface', name), 'utf8'));
const tree = json('bert-base-uncased.tree.json') as { path: string; size: number; oid: string; lfs?: { oid: string; size: number; pointerSize: number } }[];
const resolve = json('bert-base-uncased.resolve.json');
const gated = json('gated.json');

describe('the Hub as recorded', () => {
  it('reads a recorded tree listing: LFS SHA-256 as the layer digest, git blob ids for the rest', () => {
    const files = tree.map(hubFileOf);
    expect(files.find((f) => f.path === 'pytorch_model.bin')).toEqual({ path: 'pytorch_model.bin', size: 440473133, lfsSha256: 'sha256:097417381d6c7230bd9e3557456d726de6e83245ec8b24f529f60198a67b203a' });
    expect(files.find((f) => f.path === 'config.json')).toEqual({ path: 'config.json', size: 313, gitOid: 'fca794a5f07ff8f963fe8b61e3694b0fb7f955df' });
    expect(selectFiles(files).chosen.map((f) => f.path)).toEqual(['config.json', 'pytorch_model.bin', 'tf_model.h5', 'vocab.txt']);
    expect(selectFiles(files, ['*.bin', 'config.json']).chosen.map((f) => f.path)).toEqual(['config.json', 'pytorch_model.bin']);
  });

  it('refuses a listing whose LFS entry is not a SHA-256 of the file', () => {
    const entry = tree.find((e) => e.lfs)!;
    expect(() => hubFileOf({ ...entry, lfs: { ...entry.lfs!, oid: entry.oid } })).toThrow(/SHA-256/);
    expect(() => hubFileOf({ ...entry, lfs: { ...entry.lfs!, size: 1 } })).toThrow(/size/);
  });

  it('the loopback Hub lists entries with the recorded keys and LFS pointers of the recorded size', () => {
    for (const recorded of tree) {
      const made = treeEntry({ path: recorded.path, content: Buffer.alloc(3), ...(recorded.lfs ? { lfs: true } : {}) });
      expect(Object.keys(made).sort()).toEqual(Object.keys(recorded).sort());
      if (recorded.lfs) {
        expect(Object.keys(made['lfs'] as object).sort()).toEqual(Object.keys(recorded.lfs).sort());
        // A pointer names the oid and the size: its length follows from the size's digits.
        const pointer = lfsPointer(Buffer.alloc(0)).toString().replace(/size 0\n$/, `size ${recorded.size}\n`);
        expect(pointer.length).toBe(recorded.lfs.pointerSize);
      }
    }
  });

  it('the recorded resolve ETags are the LFS SHA-256 (followed to the CDN) and the pointer blob id (raw)', () => {
    const h5 = tree.find((e) => e.path === 'tf_model.h5')!;
    expect(resolve.files['tf_model.h5'].etag).toBe(`"${h5.lfs!.oid}"`);
    expect(resolve.files['tf_model.h5 (raw pointer)'].etag).toBe(`"${h5.oid}"`);
    expect(resolve.files['tf_model.h5 (raw pointer)'].size).toBe(h5.lfs!.pointerSize);
  });

  it('parses hf:// sources and refuses what the Hub cannot name', () => {
    expect(parseHubSource('hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF')).toEqual({ repo: 'Qwen/Qwen2.5-0.5B-Instruct-GGUF', revision: 'main' });
    expect(parseHubSource('hf://bert-base-uncased@dd4bc8b21efa05ec961e3efc4ee5e3832a3679c7')).toEqual({ repo: 'bert-base-uncased', revision: 'dd4bc8b21efa05ec961e3efc4ee5e3832a3679c7' });
    expect(parseHubSource('hf://org/model@refs/pr/1').revision).toBe('refs/pr/1');
    for (const bad of ['org/model', 'hf://', 'hf://a/b/c', 'hf://org/mo del', 'hf://org/model@', 'hf://org/../x']) expect(() => parseHubSource(bad), bad).toThrow(/hf:\/\/ORG\/NAME/);
  });
});

describe('the loopback Hub answers a gated repository as the Hub does', () => {
  let hub: FakeHub;
  const sha = commitSha();
  beforeAll(async () => {
    hub = await startFakeHub([
      { repo: 'google/gemma-2-2b-it', commits: { [sha]: [{ path: 'config.json', content: Buffer.from('{}') }] }, refs: { main: sha }, gated: true, allowedTokens: ['hf_ok'] },
      { repo: 'google/gemma-3-4b-pt', commits: { [sha]: [{ path: 'config.json', content: Buffer.from('{}') }] }, refs: { main: sha }, gated: true, allowedTokens: ['hf_ok'] },
    ]);
  });
  afterAll(async () => hub.close());

  it('401 without a token, 403 with one not granted, with the recorded texts and X-Error-Code', async () => {
    const anonymous = await fetch(`${hub.endpoint}/google/gemma-2-2b-it/resolve/main/config.json`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('x-error-code')).toBe(gated['401']['x-error-code']);
    expect(anonymous.headers.get('x-error-message')).toBe(gated['401'].message);
    const other = await fetch(`${hub.endpoint}/google/gemma-3-4b-pt/resolve/main/config.json`, { headers: { authorization: 'Bearer hf_no' } });
    expect(other.status).toBe(403);
    expect(other.headers.get('x-error-message')).toBe(gated['403'].message.replace('https://huggingface.co', hub.endpoint));
  });
});
