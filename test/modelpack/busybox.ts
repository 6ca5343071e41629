/** A runnable ModelCar base built from Debian's static busybox, so no test needs Docker Hub. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pack as tarPack } from 'tar-stream';
import { LayoutTarget } from '../../modules/oci/layout.js';
import { json, pushArtifact, tempDir } from './helpers.js';

/** A tiny runnable base: Debian's static busybox with sh, ln and sleep linked to it. */
export async function busyboxBase(): Promise<LayoutTarget> {
  const busybox = await readFile('/bin/busybox');
  const p = tarPack();
  p.entry({ name: 'bin/', type: 'directory', mode: 0o755, mtime: new Date(0) });
  p.entry({ name: 'bin/busybox', mode: 0o755, mtime: new Date(0), size: busybox.length }, busybox);
  for (const applet of ['sh', 'ln', 'sleep']) p.entry({ name: `bin/${applet}`, type: 'symlink', linkname: 'busybox', mode: 0o777, mtime: new Date(0) });
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  const layer = Buffer.concat(chunks);
  const diffId = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
  const base = new LayoutTarget(join(await tempDir('modelship-base-'), 'busybox'));
  await pushArtifact(base, 'latest', {
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      bytes: json({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'], Env: ['PATH=/bin'] }, rootfs: { type: 'layers', diff_ids: [diffId] } }),
    },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', bytes: layer }],
  });
  return base;
}


/**
 * A two-platform base as Docker Hub's busybox is: an index with linux/amd64 (Debian's busybox) and
 * linux/arm64/v8 (a stand-in layer: no arm64 binary is at hand, and nothing here runs it), plus a
 * linux/s390x entry that a ModelCar does not take.
 */
export async function multiArchBase(): Promise<LayoutTarget> {
  const amd64 = await busyboxBase();
  const amd64Desc = await amd64.resolve('latest');
  const other = async (architecture: string, marker: string) => {
    const p = tarPack();
    p.entry({ name: 'etc/arch', mode: 0o644, mtime: new Date(0) }, marker);
    p.finalize();
    const chunks: Buffer[] = [];
    for await (const c of p) chunks.push(c as Buffer);
    const layer = Buffer.concat(chunks);
    const diffId = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
    return pushArtifact(amd64, `${architecture}-image`, {
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        bytes: json({ architecture, os: 'linux', ...(architecture === 'arm64' ? { variant: 'v8' } : {}), config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [diffId] } }),
      },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', bytes: layer }],
    });
  };
  const arm64 = await other('arm64', 'arm64\n');
  const s390x = await other('s390x', 's390x\n');
  const { encodeManifest } = await import('../../modules/oci/manifest.js');
  const { bytes, descriptor } = encodeManifest({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      { ...amd64Desc, platform: { os: 'linux', architecture: 'amd64' } },
      { ...s390x, platform: { os: 'linux', architecture: 's390x' } },
      { ...arm64, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ],
  });
  await amd64.push(descriptor, bytes);
  await amd64.tag(descriptor, 'multi');
  return amd64;
}
