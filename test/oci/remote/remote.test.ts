import { Readable } from 'node:stream';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { startFaultProxy } from '../../helpers/fault-proxy.js';
import { startRegistry } from '../../helpers/registry.js';
import { RemoteTarget, RegistrySessions } from '../../../modules/oci/remote/index.js';
import { MEDIA_TYPE } from '../../../modules/oci/types.js';
import { jsonContent } from '../../../modules/oci/digest.js';
import { collect, imageWith, randomBlob, readAll, uniqueRepo } from './helpers.js';

const registry = inject('registry');

function target(repository: string, extra: ConstructorParameters<typeof RemoteTarget>[2] = {}) {
  return new RemoteTarget(registry, repository, { plainHttp: true, ...extra });
}

describe('RemoteTarget against docker-registry 2.8 (anonymous)', () => {
  it('pushes blobs and a manifest, tags it, resolves it by HEAD and reads everything back verified', async () => {
    const repo = target(uniqueRepo('remote/basic'));
    const layer = randomBlob(300_000);
    const { config, manifest } = imageWith([layer.descriptor]);
    expect(await repo.exists(layer.descriptor)).toBe(false);
    await repo.push(layer.descriptor, Readable.from([Buffer.from(layer.bytes)]));
    await repo.push(config.descriptor, config.bytes);
    await repo.push(manifest.descriptor, manifest.bytes);
    await repo.tag(manifest.descriptor, 'v1');

    expect(await repo.exists(layer.descriptor)).toBe(true);
    expect(await repo.exists(manifest.descriptor)).toBe(true);
    expect(await repo.resolve('v1')).toEqual(manifest.descriptor);
    expect(await repo.resolve(manifest.descriptor.digest)).toEqual(manifest.descriptor);
    expect(Buffer.compare(await readAll(await repo.fetch(layer.descriptor)), Buffer.from(layer.bytes))).toBe(0);
    expect(Buffer.from(await readAll(await repo.fetch(manifest.descriptor))).toString()).toBe(Buffer.from(manifest.bytes).toString());
    const tail = await readAll(await repo.fetchFrom(layer.descriptor, 299_990));
    expect(Buffer.compare(tail, Buffer.from(layer.bytes.subarray(299_990)))).toBe(0);
  });

  it('uploads in chunks when asked and in auto mode for blobs over the chunk size', async () => {
    const sessions = new RegistrySessions();
    const chunked = target(uniqueRepo('remote/chunked'), { uploadMode: 'chunked', chunkSize: 100_000, sessions });
    const blob = randomBlob(350_000);
    await chunked.push(blob.descriptor, Readable.from([Buffer.from(blob.bytes)]));
    expect(Buffer.compare(await readAll(await chunked.fetch(blob.descriptor)), Buffer.from(blob.bytes))).toBe(0);
    const auto = target(uniqueRepo('remote/auto'), { chunkSize: 100_000, sessions });
    const big = randomBlob(250_000);
    await auto.push(big.descriptor, { open: async (offset) => Readable.from([Buffer.from(big.bytes.subarray(offset))]) });
    expect(await auto.exists(big.descriptor)).toBe(true);
  });

  it('refuses content that does not match its descriptor and leaves nothing behind', async () => {
    const repo = target(uniqueRepo('remote/mismatch'));
    const blob = randomBlob(10_000);
    const other = randomBlob(10_000);
    await expect(repo.push(blob.descriptor, Readable.from([Buffer.from(other.bytes)]))).rejects.toMatchObject({ code: 'OCI_DIGEST_MISMATCH' });
    const chunked = target(uniqueRepo('remote/mismatch'), { uploadMode: 'chunked', chunkSize: 4_000 });
    await expect(chunked.push(blob.descriptor, Readable.from([Buffer.from(other.bytes)]))).rejects.toMatchObject({ code: 'OCI_DIGEST_MISMATCH' });
    await expect(repo.push(blob.descriptor, other.bytes)).rejects.toMatchObject({ code: 'OCI_DIGEST_MISMATCH' });
    const short = randomBlob(5_000);
    await expect(repo.push(blob.descriptor, Readable.from([Buffer.from(short.bytes)]))).rejects.toMatchObject({ code: 'OCI_SIZE_MISMATCH' });
    expect(await repo.exists(blob.descriptor)).toBe(false);
    expect(await chunked.exists(blob.descriptor)).toBe(false);
  });

  it('names the reference when a tag or blob is missing', async () => {
    const repo = target(uniqueRepo('remote/missing'));
    const err = await repo.resolve('nope').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OCI_NOT_FOUND' });
    expect((err as Error).message).toContain('/manifests/nope');
    const blob = randomBlob(10);
    await expect(repo.fetch(blob.descriptor)).rejects.toMatchObject({ code: 'OCI_NOT_FOUND' });
  });

  it('lists tags page by page with n and the Link header', async () => {
    const repo = target(uniqueRepo('remote/tags'), { tagPageSize: 2 });
    const layer = randomBlob(100);
    const { config, manifest } = imageWith([layer.descriptor]);
    for (const c of [layer, config, manifest]) await repo.push(c.descriptor, c.bytes);
    const names = ['a1', 'b2', 'c3', 'd4', 'e5'];
    for (const t of names) await repo.tag(manifest.descriptor, t);
    // distribution 2.8 ignores n and answers every tag at once, in storage order.
    const all = await collect(repo.tags());
    expect([...all].sort()).toEqual(names);

    // In front of it, the proxy pages the registry's real list as distribution-spec says (n, last, Link).
    const proxy = await startFaultProxy(registry);
    onTestFinished(() => proxy.stop());
    const sorted = [...all].sort();
    proxy.rule = (req) => {
      if (!req.url.includes('/tags/list')) return undefined;
      const url = new URL(req.url, 'http://x');
      const n = Number(url.searchParams.get('n'));
      const last = url.searchParams.get('last');
      const page = sorted.filter((t) => last === null || t > last).slice(0, n);
      const more = sorted.indexOf(page[page.length - 1]!) < sorted.length - 1;
      const headers: Record<string, string> = more ? { Link: `</v2/${repo.repository}/tags/list?n=${n}&last=${page[page.length - 1]}>; rel="next"` } : {};
      return { kind: 'respond', status: 200, headers, body: JSON.stringify({ name: repo.repository, tags: page }) };
    };
    const paged = new RemoteTarget(proxy.host, repo.repository, { plainHttp: true, tagPageSize: 2 });
    expect(await collect(paged.tags())).toEqual(names);
    expect(proxy.log.map((e) => e.url)).toEqual([
      `/v2/${repo.repository}/tags/list?n=2`,
      `/v2/${repo.repository}/tags/list?n=2&last=b2`,
      `/v2/${repo.repository}/tags/list?n=2&last=d4`,
    ]);
    const capped = new RemoteTarget(proxy.host, repo.repository, { plainHttp: true, tagPageSize: 2, maxListPages: 2 });
    await expect(collect(capped.tags())).rejects.toMatchObject({ code: 'OCI_REGISTRY' });
  });

  it('mounts across repositories (201) and reports false when the registry starts an upload instead (202)', async () => {
    const sessions = new RegistrySessions();
    const from = target(uniqueRepo('remote/mount-from'), { sessions });
    const to = target(uniqueRepo('remote/mount-to'), { sessions });
    const blob = randomBlob(20_000);
    await from.push(blob.descriptor, blob.bytes);
    expect(await to.mount(blob.descriptor, from.repository)).toBe(true);
    expect(await to.exists(blob.descriptor)).toBe(true);
    const absent = randomBlob(100);
    expect(await to.mount(absent.descriptor, from.repository)).toBe(false);
    expect(await to.exists(absent.descriptor)).toBe(false);
  });

  it('deletes manifests and blobs, and has no referrers API on distribution 2.8', async () => {
    const repo = target(uniqueRepo('remote/delete'));
    const layer = randomBlob(1000);
    const { config, manifest } = imageWith([layer.descriptor]);
    for (const c of [layer, config, manifest]) await repo.push(c.descriptor, c.bytes);
    expect(await repo.referrers(manifest.descriptor)).toBeUndefined();
    const referrer = jsonContent(
      { schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, artifactType: 'application/vnd.example+json', config: config.descriptor, layers: [layer.descriptor], subject: manifest.descriptor },
      MEDIA_TYPE.ociManifest,
    );
    expect(await repo.pushManifest(referrer.descriptor, referrer.bytes)).toEqual({ subjectAccepted: false });
    expect(repo.lastSubjectAccepted).toBe(false);
    await repo.delete(manifest.descriptor);
    expect(await repo.exists(manifest.descriptor)).toBe(false);
    await repo.delete(layer.descriptor);
    expect(await repo.exists(layer.descriptor)).toBe(false);
    await expect(repo.delete(layer.descriptor)).rejects.toMatchObject({ code: 'OCI_NOT_FOUND' });
  });

  it('speaks HTTPS unless told otherwise, and says what to do when the registry is plain HTTP', async () => {
    const repo = new RemoteTarget(registry, 'x/y', { retry: { attempts: 1 } });
    const err = await repo.resolve('latest').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OCI_TLS' });
    expect((err as Error).message).toContain('--plain-http');
  });

  it('fails with OCI_NETWORK naming the URL when nothing listens', async () => {
    const repo = new RemoteTarget('127.0.0.1:1', 'x/y', { plainHttp: true, retry: { attempts: 2, baseDelayMs: 1 } });
    const err = await repo.resolve('latest').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OCI_NETWORK' });
    expect((err as Error).message).toContain('http://127.0.0.1:1/v2/x/y/manifests/latest');
  });
});

describe('RemoteTarget and the referrers API of OCI 1.1 registries', () => {
  it('reads referrers pages, filters by artifactType, and reports OCI-Subject on manifest push', async () => {
    const proxy = await startFaultProxy(registry);
    onTestFinished(() => proxy.stop());
    const repo = new RemoteTarget(proxy.host, uniqueRepo('remote/subject-api'), { plainHttp: true });
    const layer = randomBlob(100);
    const { config, manifest } = imageWith([layer.descriptor]);
    for (const c of [layer, config, manifest]) await repo.push(c.descriptor, c.bytes);
    const entry = (n: number, artifactType: string) => ({ mediaType: MEDIA_TYPE.ociManifest, digest: `sha256:${String(n).repeat(64)}`, size: 10, artifactType });
    const pages: Record<string, { manifests: unknown[]; next?: string }> = {
      first: { manifests: [entry(1, 'application/vnd.a'), entry(2, 'application/vnd.b')], next: `/v2/${repo.repository}/referrers/${manifest.descriptor.digest}?page=2` },
      second: { manifests: [entry(3, 'application/vnd.a')] },
    };
    // In front of distribution 2.8 (no referrers API), the proxy answers as an OCI 1.1 registry would.
    proxy.rule = (req) => {
      if (req.url.includes(`/${repo.repository}/referrers/`)) {
        const page = req.url.includes('page=2') ? pages['second']! : pages['first']!;
        return {
          kind: 'respond',
          status: 200,
          headers: { 'Content-Type': MEDIA_TYPE.ociIndex, ...(page.next ? { Link: `<${page.next}>; rel="next"` } : {}) },
          body: JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests: page.manifests }),
        };
      }
      if (req.method === 'PUT' && req.url.includes('/manifests/')) return { kind: 'pass', addHeaders: { 'OCI-Subject': manifest.descriptor.digest } };
      return undefined;
    };
    expect((await repo.referrers(manifest.descriptor))?.map((d) => d.digest.slice(7, 8))).toEqual(['1', '2', '3']);
    expect((await repo.referrers(manifest.descriptor, 'application/vnd.a'))?.map((d) => d.digest.slice(7, 8))).toEqual(['1', '3']);
    const referrer = jsonContent(
      { schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, artifactType: 'application/vnd.a', config: config.descriptor, layers: [layer.descriptor], subject: manifest.descriptor },
      MEDIA_TYPE.ociManifest,
    );
    await repo.push(referrer.descriptor, referrer.bytes);
    expect(repo.lastSubjectAccepted).toBe(true);
  });
});

describe('RemoteTarget with a registry answering relative Location headers', () => {
  it('follows relative upload locations for monolithic, chunked and cancelled-mount uploads', async () => {
    const reg = await startRegistry({ relativeUrls: true });
    onTestFinished(() => reg.stop());
    const probe = await fetch(`http://${reg.host}/v2/x/y/blobs/uploads/`, { method: 'POST' });
    expect(probe.headers.get('location')).toMatch(/^\/v2\/x\/y\/blobs\/uploads\//);
    const chunked = new RemoteTarget(reg.host, 'rel/chunked', { plainHttp: true, uploadMode: 'chunked', chunkSize: 30_000 });
    const mono = new RemoteTarget(reg.host, 'rel/mono', { plainHttp: true, uploadMode: 'monolithic' });
    const a = randomBlob(100_000);
    const b = randomBlob(100_000);
    await chunked.push(a.descriptor, a.bytes);
    await mono.push(b.descriptor, Readable.from([Buffer.from(b.bytes)]));
    expect(await chunked.exists(a.descriptor)).toBe(true);
    expect(await mono.exists(b.descriptor)).toBe(true);
    expect(await mono.mount(randomBlob(10).descriptor, 'rel/chunked')).toBe(false);
  });
});
