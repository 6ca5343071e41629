import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import {
  LayoutTarget,
  attach,
  buildArtifactManifest,
  copy,
  descriptorOf,
  digestOf,
  fetchManifest,
  openReference,
  referrers,
  referrersTagOf,
} from '../../modules/oci/index.js';
import type { Target } from '../../modules/oci/types.js';
import { pushImage, sampleImage, tempDir } from './fixtures.js';

const run = promisify(execFile);
const registry = inject('registry');

function repo(): string {
  return `oci-test/${randomBytes(4).toString('hex')}`;
}

async function remote(repository: string): Promise<Target> {
  return (await openReference(`${registry}/${repository}`, { cwd: process.cwd(), env: {}, plainHttp: true })).target;
}

async function withReferrers(layout: LayoutTarget) {
  const image = sampleImage([3000, 70_000]);
  await pushImage(layout, image, 'v1');
  const sbomBytes = new TextEncoder().encode('{"spdxVersion":"SPDX-2.3"}');
  const sbom = await attach(
    layout,
    image.descriptor,
    await buildArtifactManifest(layout, {
      artifactType: 'application/spdx+json',
      layers: [{ descriptor: descriptorOf(sbomBytes, 'application/spdx+json'), content: sbomBytes }],
      annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
    }),
  );
  const sig = await attach(layout, sbom, await buildArtifactManifest(layout, { artifactType: 'application/vnd.example.sig', layers: [] }));
  return { image, sbom, sig };
}

describe('copy with the loopback docker-registry', () => {
  it('layout -> registry -> layout keeps digests, and a re-copy skips everything', async () => {
    const src = new LayoutTarget(await tempDir());
    const image = sampleImage([5000, 100_000, 1]);
    await pushImage(src, image, 'v1');
    const name = repo();
    const dst = await remote(name);
    const up = await copy(src, 'v1', dst, 'v1');
    expect(up).toMatchObject({ copied: 5, skipped: 0 });
    const again = await copy(src, 'v1', dst, 'v1');
    expect(again).toMatchObject({ copied: 0, skipped: 1, bytes: 0 });

    const { stdout } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry}/${name}:v1`]);
    expect(digestOf(Buffer.from(stdout))).toBe(image.descriptor.digest);

    const back = new LayoutTarget(await tempDir());
    const down = await copy(dst, 'v1', back, 'v1');
    expect(down.copied).toBe(5);
    const manifest = await fetchManifest(back, await back.resolve('v1'), back.root);
    expect(manifest).toEqual(image.manifest);
  });

  it('reads what skopeo pushed', async () => {
    const src = new LayoutTarget(await tempDir());
    const image = sampleImage([1234]);
    await pushImage(src, image, 'v1');
    const name = repo();
    await run('skopeo', ['copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', `oci:${src.root}:v1`, `docker://${registry}/${name}:v1`]);
    const theirs = await remote(name);
    expect((await theirs.resolve('v1')).digest).toBe(image.descriptor.digest);
    const local = new LayoutTarget(await tempDir());
    expect((await copy(theirs, 'v1', local, 'v1')).copied).toBe(3);
  });

  it('records referrers through the tag schema on a registry without the API, and copies them back', async () => {
    const src = new LayoutTarget(await tempDir());
    const { image, sbom, sig } = await withReferrers(src);
    const name = repo();
    const dst = await remote(name);
    await copy(src, 'v1', dst, 'v1', { referrers: true });
    // The fallback tag is a real index on the registry, readable by anyone.
    const { stdout } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry}/${name}:${referrersTagOf(image.descriptor.digest)}`]);
    const tagIndex = JSON.parse(stdout);
    expect(tagIndex.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(tagIndex.manifests).toEqual([sbom]);
    expect(await referrers(dst, image.descriptor)).toEqual([sbom]);
    expect(await referrers(dst, sbom)).toEqual([sig]);
    expect(await referrers(dst, image.descriptor, 'application/vnd.example.none')).toEqual([]);

    // attaching the same manifest again does not duplicate the entry
    await attach(dst, sbom, await buildArtifactManifest(dst, { artifactType: 'application/vnd.example.sig', layers: [] }));
    expect(await referrers(dst, sbom)).toEqual([sig]);

    const back = new LayoutTarget(await tempDir());
    await copy(dst, 'v1', back, 'v1', { referrers: true });
    expect(await referrers(back, image.descriptor)).toEqual([sbom]);
    expect(await referrers(back, sbom)).toEqual([sig]);
  });

  it('mounts blobs across repositories of the same registry', async () => {
    const src = new LayoutTarget(await tempDir());
    const image = sampleImage([2000, 3000]);
    await pushImage(src, image, 'v1');
    const first = await remote(repo());
    await copy(src, 'v1', first, 'v1');
    const second = await remote(repo());
    const result = await copy(first, 'v1', second, 'v1');
    expect(result.mounted).toBe(3);
    expect(result.copied).toBe(1);
  });

  it('drives copy and discover from the command line against the registry', async () => {
    const dir = await tempDir();
    const { image, sbom, sig } = await withReferrers(new LayoutTarget(`${dir}/src`));
    const name = repo();
    const copied = await runCli(['copy', 'oci:src:v1', `${registry}/${name}`, '--referrers', '--plain-http', '--json'], { cwd: dir });
    expect(copied.code).toBe(0);
    expect(copied.json()).toMatchObject({ digest: image.descriptor.digest, copied: 8, skipped: 0 });
    const discovered = await runCli(['discover', `${registry}/${name}:v1`, '--plain-http', '--json']);
    expect(discovered.code).toBe(0);
    const tree = discovered.json();
    expect(tree.referrers.map((r: { digest: string }) => r.digest)).toEqual([sbom.digest]);
    expect(tree.referrers[0].referrers.map((r: { digest: string }) => r.digest)).toEqual([sig.digest]);
    // Without --plain-http the registry is spoken to over HTTPS, which a plain-HTTP registry cannot answer.
    const tls = await runCli(['inspect', `${registry}/${name}:v1`, '--json']);
    expect(tls.code).not.toBe(0);
  });
});
