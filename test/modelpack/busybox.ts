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

