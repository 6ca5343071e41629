import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { RemoteTarget } from '../../../modules/oci/remote/index.js';
import { MEDIA_TYPE } from '../../../modules/oci/types.js';
import { imageWith, randomBlob, readAll, uniqueRepo } from './helpers.js';

const run = promisify(execFile);
const registry = inject('registry');

describe('interop with skopeo 1.9', () => {
  it('skopeo reads what we push, byte for byte', async () => {
    const repo = new RemoteTarget(registry, uniqueRepo('skopeo/ours'), { plainHttp: true, uploadMode: 'chunked', chunkSize: 40_000 });
    const layer = randomBlob(100_000, MEDIA_TYPE.ociLayer);
    const { config, manifest } = imageWith([layer.descriptor]);
    for (const c of [layer, config, manifest]) await repo.push(c.descriptor, c.bytes);
    await repo.tag(manifest.descriptor, 'v1');
    const { stdout } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry}/${repo.repository}:v1`]);
    expect(stdout.trim()).toBe(Buffer.from(manifest.bytes).toString('utf8'));
    const dir = await mkdtemp(join(tmpdir(), 'modelship-skopeo-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await run('skopeo', ['copy', '--preserve-digests', '--src-tls-verify=false', `docker://${registry}/${repo.repository}:v1`, `oci:${join(dir, 'layout')}:v1`]);
    const { stdout: copied } = await run('skopeo', ['inspect', '--raw', `oci:${join(dir, 'layout')}:v1`]);
    expect(copied.trim()).toBe(Buffer.from(manifest.bytes).toString('utf8'));
  });

  it('we resolve and fetch what skopeo copies in, with the same digests', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'modelship-skopeo-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    // A tiny OCI layout written by hand, as the image-spec lays it out.
    const layout = join(dir, 'layout');
    await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
    const layer = randomBlob(50_000, MEDIA_TYPE.ociLayer);
    const { config, manifest } = imageWith([layer.descriptor]);
    for (const c of [layer, config, manifest]) await writeFile(join(layout, 'blobs', 'sha256', c.descriptor.digest.slice(7)), c.bytes);
    await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...manifest.descriptor, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }));
    const repository = uniqueRepo('skopeo/theirs');
    // Without --preserve-digests skopeo re-serialises the manifest; with it, digests must survive the trip.
    await run('skopeo', ['copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${registry}/${repository}:v1`]);

    const repo = new RemoteTarget(registry, repository, { plainHttp: true });
    const resolved = await repo.resolve('v1');
    expect(resolved).toEqual(manifest.descriptor);
    const { descriptor, bytes } = await repo.fetchReference('v1');
    expect(descriptor.digest).toBe(manifest.descriptor.digest);
    expect(Buffer.from(bytes).toString()).toBe(Buffer.from(manifest.bytes).toString());
    expect(Buffer.compare(await readAll(await repo.fetch(layer.descriptor)), Buffer.from(layer.bytes))).toBe(0);
    expect(Buffer.compare(await readAll(await repo.fetch(config.descriptor)), Buffer.from(config.bytes))).toBe(0);
    const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${registry}/${repository}:v1`]);
    expect(stdout.trim()).toBe(resolved.digest);
  });
});
