/**
 * The ModelCar base built offline from the machine's static busybox: content-addressed (the same
 * binary gives the same digests), runnable as KServe's ModelCar sidecar needs (sh, ln, sleep), its
 * platform read from the binary; a missing or dynamically linked busybox is refused with the fix.
 */
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { extract } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { elfPlatform, hostBusyboxBase } from '../../modules/modelpack/index.js';
import { fetchManifest, fetchManifestBytes } from '../../modules/oci/manifest.js';
import { LayoutTarget } from '../../modules/oci/layout.js';
import type { ImageManifest } from '../../modules/oci/types.js';
import { tempDir } from './helpers.js';

async function tarEntries(bytes: Uint8Array): Promise<{ name: string; type: string; linkname?: string; size?: number; mtime?: Date }[]> {
  const entries: { name: string; type: string; linkname?: string; size?: number; mtime?: Date }[] = [];
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      entries.push({ name: h.name, type: h.type ?? 'file', ...(h.linkname ? { linkname: h.linkname } : {}), ...(h.size !== undefined ? { size: h.size } : {}), ...(h.mtime ? { mtime: h.mtime } : {}) });
      stream.on('end', next);
      stream.resume();
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(Buffer.from(bytes));
  await done;
  return entries;
}

/** A minimal ELF64 header with one program header of the given type. */
function elf64(machine: number, programType: number): Uint8Array {
  const b = Buffer.alloc(64 + 56);
  b.writeUInt32BE(0x7f454c46, 0);
  b[4] = 2; // ELFCLASS64
  b[5] = 1; // little-endian
  b.writeUInt16LE(machine, 18);
  b.writeBigUInt64LE(64n, 32);
  b.writeUInt16LE(56, 54);
  b.writeUInt16LE(1, 56);
  b.writeUInt32LE(programType, 64);
  return b;
}

describe('the ModelCar base from the static busybox', () => {
  it('is one reproducible layer with busybox and the applets KServe runs, for the binary\'s platform', async () => {
    const a = new LayoutTarget(join(await tempDir('host-busybox-'), 'a'));
    const b = new LayoutTarget(join(await tempDir('host-busybox-'), 'b'));
    const first = await hostBusyboxBase(a);
    const second = await hostBusyboxBase(b);
    expect(second.reference).toBe(first.reference);
    expect(first.platform).toEqual({ os: 'linux', architecture: process.arch === 'arm64' ? 'arm64' : 'amd64', ...(process.arch === 'arm64' ? { variant: 'v8' } : {}) });
    expect(first.version).toMatch(/^\d+\.\d+/);

    const manifest = (await fetchManifest(a, await a.resolve(first.reference), 'base')) as ImageManifest;
    expect(manifest.layers).toHaveLength(1);
    const config = JSON.parse(new TextDecoder().decode(await fetchManifestBytes(a, manifest.config, 'config')));
    expect(config).toMatchObject({ os: 'linux', architecture: first.platform.architecture, config: { Cmd: ['sh'], Env: ['PATH=/bin'] }, rootfs: { diff_ids: [manifest.layers[0]!.digest] } });
    expect(config.config.Labels['org.opencontainers.image.licenses']).toBe('GPL-2.0-only');
    // No local path and no build time in the image: only the binary decides the digests.
    expect(JSON.stringify(config)).not.toContain('/bin/busybox');
    expect(config.created).toBeUndefined();

    const entries = await tarEntries(await fetchManifestBytes(a, manifest.layers[0]!, 'layer'));
    expect(entries.map((e) => [e.name, e.type, e.linkname ?? ''])).toEqual([
      ['bin/', 'directory', ''], ['bin/busybox', 'file', ''], ['bin/sh', 'symlink', 'busybox'], ['bin/ln', 'symlink', 'busybox'], ['bin/sleep', 'symlink', 'busybox'],
    ]);
    for (const e of entries) expect(e.mtime?.getTime()).toBe(0);
  });

  it('reads the platform from the ELF header and tells a static binary from one needing a loader', () => {
    expect(elfPlatform(elf64(183, 1), 'x')).toEqual({ platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, dynamic: false });
    expect(elfPlatform(elf64(62, 3), 'x')).toEqual({ platform: { os: 'linux', architecture: 'amd64' }, dynamic: true });
    expect(() => elfPlatform(elf64(9999, 1), 'odd')).toThrow(/odd .*ELF machine 9999/);
  });

  it('refuses a missing, dynamically linked or non-ELF busybox, naming the file and the fix', async () => {
    const store = new LayoutTarget(join(await tempDir('host-busybox-'), 'store'));
    const dir = await tempDir('host-busybox-bins-');
    await expect(hostBusyboxBase(store, join(dir, 'none'))).rejects.toMatchObject({
      code: 'MODELPACK_TOOL_MISSING', message: expect.stringMatching(/no busybox .* at .*none.*busybox-static.*--modelcar-base/),
    });
    const dynamic = join(dir, 'dynamic');
    await writeFile(dynamic, elf64(62, 3));
    await expect(hostBusyboxBase(store, dynamic)).rejects.toMatchObject({
      code: 'MODELPACK_TOOL_MISSING', message: expect.stringMatching(/dynamic is dynamically linked.*busybox-static.*--modelcar-base/),
    });
    const script = join(dir, 'script');
    await copyFile(new URL(import.meta.url), script);
    await expect(hostBusyboxBase(store, script)).rejects.toMatchObject({ code: 'INPUT_INVALID', message: expect.stringContaining('no ELF header') });
  });
});
