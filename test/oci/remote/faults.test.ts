import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RemoteTarget, RegistrySessions } from '../../../modules/oci/remote/index.js';
import type { ReopenableContent } from '../../../modules/oci/types.js';
import { startFaultProxy, type FaultProxy, type SeenRequest } from '../../helpers/fault-proxy.js';
import { imageWith, randomBlob, readAll, uniqueRepo } from './helpers.js';

const registry = inject('registry');

function reopenable(bytes: Uint8Array, opened: number[]): ReopenableContent {
  return {
    open: async (offset) => {
      opened.push(offset);
      return Readable.from([Buffer.from(bytes.subarray(offset))]);
    },
  };
}

function isBlobUpload(req: SeenRequest, method: string): boolean {
  return req.method === method && req.url.includes('/blobs/uploads/');
}

describe('faults between us and a real registry', () => {
  let proxy: FaultProxy;
  const notes: string[] = [];
  const options = () => ({
    plainHttp: true,
    retry: { attempts: 4, baseDelayMs: 10 },
    reporter: { start() {}, advance() {}, finish() {}, note: (m: string) => notes.push(m) },
  });
  beforeAll(async () => {
    proxy = await startFaultProxy(registry);
  });
  afterAll(() => proxy?.stop());
  const reset = () => {
    proxy.log.length = 0;
    notes.length = 0;
    proxy.rule = () => undefined;
  };

  it('resumes a chunked upload from the offset the registry reports after a dropped connection', async () => {
    reset();
    const chunk = 64 * 1024;
    const blob = randomBlob(5 * chunk + 123);
    let patches = 0;
    proxy.rule = (req) => (isBlobUpload(req, 'PATCH') && ++patches === 3 ? { kind: 'drop' } : undefined);
    const repo = new RemoteTarget(proxy.host, uniqueRepo('fault/upload'), { ...options(), uploadMode: 'chunked', chunkSize: chunk });
    const opened: number[] = [];
    const before = proxy.forwardedBytes();
    await repo.push(blob.descriptor, reopenable(blob.bytes, opened));
    // Every byte crossed once: nothing was sent again from 0.
    expect(proxy.forwardedBytes() - before).toBe(blob.bytes.byteLength);
    expect(opened).toEqual([0, 2 * chunk]);
    const statusChecks = proxy.log.filter((e) => e.method === 'GET' && e.url.includes('/blobs/uploads/'));
    expect(statusChecks.map((e) => e.status)).toEqual([204]);
    expect(Buffer.compare(await readAll(await repo.fetch(blob.descriptor)), Buffer.from(blob.bytes))).toBe(0);
  });

  it('resumes at the last chunk the registry holds when a chunk is cut off halfway', async () => {
    reset();
    const chunk = 64 * 1024;
    const blob = randomBlob(4 * chunk);
    let patches = 0;
    proxy.rule = (req) => (isBlobUpload(req, 'PATCH') && ++patches === 2 ? { kind: 'cutRequest', afterBytes: 1000 } : undefined);
    const repo = new RemoteTarget(proxy.host, uniqueRepo('fault/upload-cut'), { ...options(), uploadMode: 'chunked', chunkSize: chunk });
    const opened: number[] = [];
    const before = proxy.forwardedBytes();
    await repo.push(blob.descriptor, reopenable(blob.bytes, opened));
    expect(Buffer.compare(await readAll(await repo.fetch(blob.descriptor)), Buffer.from(blob.bytes))).toBe(0);
    // distribution 2.8 drops the partial chunk and reports the last whole one: only the cut 1000 bytes crossed twice.
    expect(opened).toEqual([0, chunk]);
    expect(proxy.forwardedBytes() - before).toBe(blob.bytes.byteLength + 1000);
    expect(notes.some((n) => n.includes(`resuming at byte ${chunk}`))).toBe(true);
  });

  it('starts a chunked upload over when the registry no longer knows the session', async () => {
    reset();
    const chunk = 64 * 1024;
    const blob = randomBlob(3 * chunk);
    let patches = 0;
    proxy.rule = (req) => {
      if (isBlobUpload(req, 'PATCH') && ++patches === 2) return { kind: 'drop' };
      if (isBlobUpload(req, 'GET')) return { kind: 'respond', status: 404, body: '{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN"}]}' };
      return undefined;
    };
    const repo = new RemoteTarget(proxy.host, uniqueRepo('fault/upload-lost'), { ...options(), uploadMode: 'chunked', chunkSize: chunk });
    const opened: number[] = [];
    await repo.push(blob.descriptor, reopenable(blob.bytes, opened));
    expect(opened).toEqual([0, 0]);
    expect(notes.some((n) => /lost its state; starting again/.test(n))).toBe(true);
    expect(Buffer.compare(await readAll(await repo.fetch(blob.descriptor)), Buffer.from(blob.bytes))).toBe(0);
  });

  it('sends a monolithic upload again from a reopened source when the PUT is cut off', async () => {
    reset();
    const blob = randomBlob(300_000);
    let puts = 0;
    proxy.rule = (req) => (isBlobUpload(req, 'PUT') && ++puts === 1 ? { kind: 'cutRequest', afterBytes: 100_000 } : undefined);
    const repo = new RemoteTarget(proxy.host, uniqueRepo('fault/mono'), { ...options(), uploadMode: 'monolithic' });
    const opened: number[] = [];
    await repo.push(blob.descriptor, reopenable(blob.bytes, opened));
    expect(opened).toEqual([0, 0]);
    expect(await repo.exists(blob.descriptor)).toBe(true);
  });

  it('fails clearly when an interrupted upload cannot be read again', async () => {
    reset();
    const blob = randomBlob(200_000);
    proxy.rule = (req) => (isBlobUpload(req, 'PUT') ? { kind: 'drop' } : undefined);
    const repo = new RemoteTarget(proxy.host, uniqueRepo('fault/once'), { ...options(), uploadMode: 'monolithic' });
    const err = await repo.push(blob.descriptor, Readable.from([Buffer.from(blob.bytes)])).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OCI_NETWORK' });
    expect((err as Error).message).toContain(proxy.host);
    proxy.rule = () => undefined;
    expect(await repo.exists(blob.descriptor)).toBe(false);
  });

  it('falls back to monolithic uploads when the registry refuses PATCH, and remembers it', async () => {
    reset();
    proxy.rule = (req) => (isBlobUpload(req, 'PATCH') ? { kind: 'respond', status: 405, body: '{"errors":[{"code":"UNSUPPORTED","message":"no chunks"}]}' } : undefined);
    const sessions = new RegistrySessions();
    const repo = new RemoteTarget(proxy.host, uniqueRepo('fault/nopatch'), { ...options(), chunkSize: 50_000, sessions });
    const first = randomBlob(120_000);
    await repo.push(first.descriptor, first.bytes);
    const second = randomBlob(120_000);
    await repo.push(second.descriptor, reopenable(second.bytes, []));
    expect(proxy.log.filter((e) => e.method === 'PATCH')).toHaveLength(1);
    expect(await repo.exists(first.descriptor)).toBe(true);
    expect(await repo.exists(second.descriptor)).toBe(true);
  });

  it('resumes a download with Range after the connection drops, hashing across the resume', async () => {
    reset();
    const blob = randomBlob(1_000_000);
    const writer = new RemoteTarget(registry, uniqueRepo('fault/download'), { plainHttp: true });
    await writer.push(blob.descriptor, blob.bytes);
    const ranges: (string | undefined)[] = [];
    proxy.rule = (req) => {
      if (req.method !== 'GET' || !req.url.includes(`/blobs/${blob.descriptor.digest}`)) return undefined;
      ranges.push(req.headers.range);
      return ranges.length === 1 ? { kind: 'cutResponse', afterBytes: 300_000 } : undefined;
    };
    const reader = new RemoteTarget(proxy.host, writer.repository, options());
    const got = await readAll(await reader.fetch(blob.descriptor));
    expect(Buffer.compare(got, Buffer.from(blob.bytes))).toBe(0);
    expect(ranges[0]).toBeUndefined();
    expect(ranges[1]).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(ranges[1]!)![0])).toBeGreaterThan(0);
  });

  it('retries a 500 once and then succeeds', async () => {
    reset();
    const repo = new RemoteTarget(registry, uniqueRepo('fault/500'), { plainHttp: true });
    const layer = randomBlob(100);
    const { config, manifest } = imageWith([layer.descriptor]);
    for (const c of [layer, config, manifest]) await repo.push(c.descriptor, c.bytes);
    await repo.tag(manifest.descriptor, 'v1');
    let heads = 0;
    proxy.rule = (req) => (req.method === 'HEAD' && req.url.endsWith('/manifests/v1') && ++heads === 1 ? { kind: 'respond', status: 500, body: '{"errors":[{"code":"UNKNOWN","message":"boom"}]}' } : undefined);
    const viaProxy = new RemoteTarget(proxy.host, repo.repository, options());
    expect(await viaProxy.resolve('v1')).toEqual(manifest.descriptor);
    expect(proxy.log.map((e) => e.status)).toEqual([500, 200]);
    // A 500 that persists ends as a registry error naming the URL.
    proxy.rule = (req) => (req.method === 'HEAD' ? { kind: 'respond', status: 500 } : undefined);
    const err = await viaProxy.resolve('v1').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OCI_REGISTRY' });
    expect((err as Error).message).toContain(`/v2/${repo.repository}/manifests/v1`);
  });

  it('waits as long as Retry-After says on 429', async () => {
    reset();
    const blob = randomBlob(1000);
    const repo = new RemoteTarget(proxy.host, uniqueRepo('fault/429'), options());
    let posts = 0;
    proxy.rule = (req) => (isBlobUpload(req, 'POST') && ++posts === 1 ? { kind: 'respond', status: 429, headers: { 'Retry-After': '1' }, body: '{"errors":[{"code":"TOOMANYREQUESTS"}]}' } : undefined);
    const started = Date.now();
    await repo.push(blob.descriptor, blob.bytes);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(await repo.exists(blob.descriptor)).toBe(true);
    expect(notes.some((n) => n.includes('429'))).toBe(true);
  });

  it('reports OCI_DIGEST_MISMATCH when the registry returns wrong bytes, and never ends the stream as valid', async () => {
    reset();
    const blob = randomBlob(200_000);
    const layer = randomBlob(10);
    const writer = new RemoteTarget(registry, uniqueRepo('fault/corrupt'), { plainHttp: true });
    await writer.push(blob.descriptor, blob.bytes);
    const { config, manifest } = imageWith([layer.descriptor]);
    for (const c of [layer, config, manifest]) await writer.push(c.descriptor, c.bytes);
    proxy.rule = (req) => (req.method === 'GET' && (req.url.includes('/blobs/sha256:') || req.url.includes('/manifests/')) ? { kind: 'corruptResponse' } : undefined);
    const reader = new RemoteTarget(proxy.host, writer.repository, options());
    const stream = await reader.fetch(blob.descriptor);
    let ended = false;
    stream.on('end', () => (ended = true));
    await expect(readAll(stream)).rejects.toMatchObject({ code: 'OCI_DIGEST_MISMATCH' });
    expect(ended).toBe(false);
    await expect(reader.fetch(manifest.descriptor)).rejects.toMatchObject({ code: 'OCI_DIGEST_MISMATCH' });
    await expect(reader.fetchReference(manifest.descriptor.digest)).rejects.toMatchObject({ code: 'OCI_DIGEST_MISMATCH' });
  });

  it('refuses a manifest over 4 MiB before buffering it', async () => {
    reset();
    const huge = JSON.stringify({ schemaVersion: 2, pad: 'x'.repeat(5 * 1024 * 1024) });
    proxy.rule = (req) => (req.url.includes('/manifests/') ? { kind: 'respond', status: 200, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }, body: huge } : undefined);
    const reader = new RemoteTarget(proxy.host, uniqueRepo('fault/huge'), options());
    await expect(reader.fetchReference('v1')).rejects.toMatchObject({ code: 'OCI_SIZE_LIMIT' });
  });

  it('gives up on a silent registry after the idle timeout, and stops at once when cancelled', async () => {
    reset();
    proxy.rule = () => ({ kind: 'hang' });
    const slow = new RemoteTarget(proxy.host, uniqueRepo('fault/hang'), { ...options(), timeoutMs: 200, retry: { attempts: 2, baseDelayMs: 10 } });
    const started = Date.now();
    const timedOut = await slow.resolve('v1').catch((e: unknown) => e);
    expect(timedOut).toMatchObject({ code: 'OCI_NETWORK' });
    expect((timedOut as Error).message).toMatch(/no data for 200 ms/);
    expect(proxy.log).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(5000);

    const controller = new AbortController();
    const cancellable = new RemoteTarget(proxy.host, uniqueRepo('fault/hang'), { ...options(), signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const cancelled = await cancellable.resolve('v1').catch((e: unknown) => e);
    expect(cancelled).toMatchObject({ code: 'OCI_NETWORK' });
    expect((cancelled as Error).message).toContain('cancelled');
  });

  it('resolves with GET when HEAD is refused or leaves out the digest, and checks the digest header against the body', async () => {
    reset();
    const repo = new RemoteTarget(registry, uniqueRepo('fault/head'), { plainHttp: true });
    const layer = randomBlob(100);
    const { config, manifest } = imageWith([layer.descriptor]);
    for (const c of [layer, config, manifest]) await repo.push(c.descriptor, c.bytes);
    await repo.tag(manifest.descriptor, 'v1');
    const viaProxy = new RemoteTarget(proxy.host, repo.repository, options());
    proxy.rule = (req) => (req.method === 'HEAD' ? { kind: 'respond', status: 405 } : undefined);
    expect(await viaProxy.resolve('v1')).toEqual(manifest.descriptor);
    proxy.rule = (req) => (req.method === 'HEAD' ? { kind: 'respond', status: 200, headers: { 'Content-Type': manifest.descriptor.mediaType } } : undefined);
    expect(await viaProxy.resolve('v1')).toEqual(manifest.descriptor);
    expect(proxy.log.filter((e) => e.method === 'GET')).toHaveLength(2);
    // A registry naming another digest than the bytes it sends is caught.
    proxy.rule = (req) => (req.method === 'GET' ? { kind: 'pass', addHeaders: { 'Docker-Content-Digest': config.descriptor.digest } } : undefined);
    await expect(viaProxy.fetchReference('v1')).rejects.toMatchObject({ code: 'OCI_DIGEST_MISMATCH' });
  });
});
