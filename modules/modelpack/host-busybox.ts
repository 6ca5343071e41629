/**
 * A ModelCar base built offline from this machine's own statically linked busybox (Debian's
 * `busybox-static`): one layer holding /bin/busybox and the applets KServe's ModelCar sidecar runs
 * (sh, ln, sleep), with a fixed epoch, so the same binary always gives the same digests. The image
 * has the binary's own platform only: a cluster with nodes of another architecture needs a
 * multi-platform base (--modelcar-base). The base's layer travels inside the ModelCar image, so the
 * cluster pulls it from the same registry as the model.
 */
import { readFile } from 'node:fs/promises';
import { loadTarStream } from '../fs/lazy-packages.js';
import { ModelshipError } from '../errors/index.js';
import { MEDIA_TYPE, type Platform, type Target } from '../oci/types.js';
import { pushBytes, pushManifest } from './content.js';
import type { ModelCarBase } from './modelcar.js';
import { TAR_EPOCH } from './tar.js';

/** Where Debian's busybox-static installs its binary. */
export const HOST_BUSYBOX_PATH = '/bin/busybox';

/** What KServe's ModelCar containers run: `sh -c 'ln -sf /proc/$$/root/models /mnt/ && sleep infinity'`. */
export const MODELCAR_APPLETS = ['sh', 'ln', 'sleep'] as const;

export interface HostBusyboxBase extends ModelCarBase {
  platform: Platform;
  /** BusyBox's version as the binary states it, when it does. */
  version?: string;
  /** The binary the base was built from. */
  source: string;
}

/** ELF e_machine → OCI architecture (and variant), for the architectures container images name. */
const ARCHITECTURES: Record<number, Pick<Platform, 'architecture' | 'variant'>> = {
  3: { architecture: '386' },
  21: { architecture: 'ppc64le' },
  22: { architecture: 's390x' },
  40: { architecture: 'arm' },
  62: { architecture: 'amd64' },
  183: { architecture: 'arm64', variant: 'v8' },
  243: { architecture: 'riscv64' },
};

const PT_INTERP = 3;

/** The platform of a Linux ELF executable, and whether it needs a dynamic loader (a PT_INTERP program header). */
export function elfPlatform(bytes: Uint8Array, where: string): { platform: Platform; dynamic: boolean } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const invalid = (why: string) => new ModelshipError('INPUT_INVALID', `${where} is not a Linux executable a ModelCar base can hold: ${why}`);
  if (bytes.length < 64 || view.getUint32(0) !== 0x7f454c46) throw invalid('no ELF header');
  const is64 = bytes[4] === 2;
  const le = bytes[5] === 1;
  const machine = view.getUint16(18, le);
  const arch = ARCHITECTURES[machine];
  if (!arch) throw invalid(`ELF machine ${machine} is not an architecture container images name`);
  const phoff = is64 ? Number(view.getBigUint64(32, le)) : view.getUint32(28, le);
  const phentsize = view.getUint16(is64 ? 54 : 42, le);
  const phnum = view.getUint16(is64 ? 56 : 44, le);
  if (phoff + phentsize * phnum > bytes.length) throw invalid('its program headers lie past the end of the file');
  let dynamic = false;
  for (let i = 0; i < phnum; i++) if (view.getUint32(phoff + i * phentsize, le) === PT_INTERP) dynamic = true;
  return { platform: { os: 'linux', ...arch }, dynamic };
}

/**
 * Builds the base into `store` (blobs and manifest by digest, no tag) from the busybox at `path`;
 * refuses, with what to do instead, when it is missing or needs shared libraries the image lacks.
 */
export async function hostBusyboxBase(store: Target, path: string = HOST_BUSYBOX_PATH): Promise<HostBusyboxBase> {
  const hint = 'install a statically linked busybox (Debian and Ubuntu: apt-get install busybox-static), or give a base the cluster can pull with --modelcar-base REF (see docs/modelcar.md)';
  const binary = await readFile(path).catch((err: NodeJS.ErrnoException) => {
    throw new ModelshipError('MODELPACK_TOOL_MISSING', `no busybox to build a ModelCar base from at ${path} (${err.code ?? err.message}): ${hint}`, { cause: err });
  });
  const { platform, dynamic } = elfPlatform(binary, path);
  if (dynamic) {
    throw new ModelshipError('MODELPACK_TOOL_MISSING', `${path} is dynamically linked, so it cannot run alone in a ModelCar image: ${hint}`);
  }
  const version = /BusyBox v(\d+\.\d+(?:\.\d+)?)/.exec(binary.toString('latin1'))?.[1];
  const layer = await busyboxLayer(binary);
  const layerDesc = await pushBytes(store, MEDIA_TYPE.ociLayer, layer);
  const config = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: {
      Cmd: ['sh'],
      Env: ['PATH=/bin'],
      // BusyBox is GPL-2.0-only: whoever passes the image on owes its source, as with Docker Hub's busybox.
      Labels: { 'org.opencontainers.image.title': 'busybox-static', 'org.opencontainers.image.licenses': 'GPL-2.0-only', ...(version ? { 'org.opencontainers.image.version': version } : {}) },
    },
    rootfs: { type: 'layers', diff_ids: [layerDesc.digest] },
    history: [{ created_by: `modelship: busybox${version ? ` ${version}` : ''} (a static binary), with ${MODELCAR_APPLETS.join(', ')}` }],
  };
  const configDesc = await pushBytes(store, MEDIA_TYPE.ociConfig, new TextEncoder().encode(JSON.stringify(config)));
  const manifest = await pushManifest(store, { schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, config: configDesc, layers: [layerDesc] });
  return { target: store, reference: manifest.digest, platform, source: path, ...(version ? { version } : {}) };
}

/** bin/busybox and its applet links, uncompressed, with the reproducible epoch and root ownership. */
async function busyboxLayer(binary: Buffer): Promise<Buffer> {
  const owner = { mtime: TAR_EPOCH, uid: 0, gid: 0, uname: '', gname: '' };
  const tar = loadTarStream().pack();
  tar.entry({ name: 'bin/', type: 'directory', mode: 0o755, ...owner });
  tar.entry({ name: 'bin/busybox', type: 'file', mode: 0o755, size: binary.length, ...owner }, binary);
  for (const applet of MODELCAR_APPLETS) tar.entry({ name: `bin/${applet}`, type: 'symlink', linkname: 'busybox', mode: 0o777, ...owner });
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  // Uncompressed, so the layer's digest is also its diffId.
  return Buffer.concat(chunks);
}
