import { readdir, readFile, mkdir, symlink, writeFile, truncate, chmod, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack as tarPack, type Header } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { LayoutTarget } from '../../modules/oci/layout.js';
import { packModel, unpack } from '../../modules/modelpack/index.js';
import { bytesOf, specFor, tempDir, writeTree } from './helpers.js';
import { handmadeArtifact } from '../helpers/hostile-artifact.js';

async function tarOf(entries: (Partial<Header> & { name: string; body?: string })[]): Promise<Buffer> {
  const p = tarPack();
  for (const { body, ...h } of entries) p.entry({ mtime: new Date(0), mode: 0o644, ...h }, body ?? '');
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const artifact = handmadeArtifact;

const TAR = 'application/vnd.cncf.model.code.v1.tar';
const RAW = 'application/vnd.cncf.model.weight.v1.raw';
const good = { name: 'fine.txt', body: 'fine' };

async function expectRefused(store: LayoutTarget, match: RegExp): Promise<void> {
  const parent = await tempDir('modelship-target-');
  const out = join(parent, 'out');
  const err = await unpack(store, 'bad', out).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toMatchObject({ code: expect.stringMatching(/^(UNPACK_UNSAFE_PATH|UNPACK_TOO_LARGE|OCI_DIGEST_MISMATCH|OCI_SIZE_MISMATCH)$/) });
  expect((err as Error).message).toMatch(match);
  // Nothing written: not the good file before the bad one, not a staging folder, not the target itself.
  expect(await readdir(parent)).toEqual([]);
}

describe('unpack refuses malicious layers and writes nothing', () => {
  it('an absolute tar entry', async () => {
    await expectRefused(await artifact([{ mediaType: TAR, bytes: await tarOf([good, { name: '/etc/evil', body: 'x' }]) }]), /absolute path "\/etc\/evil"/);
  });

  it('a tar entry climbing out with ..', async () => {
    await expectRefused(await artifact([{ mediaType: TAR, bytes: await tarOf([good, { name: 'a/../../evil', body: 'x' }]) }]), /climbs out.*entry "a\/..\/..\/evil"|entry "a\/..\/..\/evil".*climbs out/);
  });

  it('a symlink that escapes, and one that does not', async () => {
    await expectRefused(await artifact([{ mediaType: TAR, bytes: await tarOf([good, { name: 'link', type: 'symlink', linkname: '/etc/passwd' }]) }]), /is a symlink/);
    await expectRefused(await artifact([{ mediaType: TAR, bytes: await tarOf([good, { name: 'link', type: 'symlink', linkname: 'fine.txt' }]) }]), /is a symlink/);
  });

  it('a hardlink that escapes', async () => {
    await expectRefused(await artifact([{ mediaType: TAR, bytes: await tarOf([good, { name: 'hl', type: 'link', linkname: '../../etc/passwd' }]) }]), /is a link/);
  });

  it('a device file and a FIFO', async () => {
    await expectRefused(await artifact([{ mediaType: TAR, bytes: await tarOf([good, { name: 'null', type: 'character-device', devmajor: 1, devminor: 3 }]) }]), /character-device/);
    await expectRefused(await artifact([{ mediaType: TAR, bytes: await tarOf([good, { name: 'pipe', type: 'fifo' }]) }]), /fifo/);
  });

  it('a duplicate path, inside a layer and across layers', async () => {
    await expectRefused(await artifact([{ mediaType: TAR, bytes: await tarOf([good, { name: 'fine.txt', body: 'other' }]) }]), /duplicate path "fine.txt"/);
    await expectRefused(
      await artifact([
        { mediaType: TAR, bytes: await tarOf([good]) },
        { mediaType: RAW, bytes: Buffer.from('raw'), annotations: { 'org.cncf.model.filepath': './fine.txt' } },
      ]),
      /duplicate path "fine.txt"/,
    );
  });

  it('filepath annotations that escape, in current and legacy names', async () => {
    for (const path of ['/abs/file', '../outside', 'ok/../../outside', 'C:\\windows']) {
      await expectRefused(await artifact([{ mediaType: RAW, bytes: Buffer.from('w'), annotations: { 'org.cncf.model.filepath': path } }]), /path annotation/);
    }
    await expectRefused(
      await artifact([{ mediaType: 'application/vnd.cnai.model.weight.v1.raw', bytes: Buffer.from('w'), annotations: { 'org.cnai.model.filepath': '../x' } }]),
      /climbs out/,
    );
  });

  it('gzip tar layers are checked the same way', async () => {
    const bytes = gzipSync(await tarOf([good, { name: '../evil', body: 'x' }]));
    await expectRefused(await artifact([{ mediaType: 'application/vnd.cncf.model.doc.v1.tar+gzip', bytes }]), /climbs out/);
  });

  it('a truncated or altered blob', async () => {
    const src = await tempDir();
    await writeTree(src, { 'w.bin': bytesOf(50_000), 'README.md': 'hi' });
    for (const format of ['raw', 'tar'] as const) {
      const store = new LayoutTarget(join(await tempDir(), 'layout'));
      const packed = await packModel(specFor(src, [{ kind: 'weight', path: 'w.bin' }, { kind: 'doc', path: 'README.md' }]), store, { tag: 'bad', layerFormat: format });
      const weight = packed.files.find((f) => f.path === 'w.bin')!;
      const path = store.blobPath(weight.layer.digest);
      await chmod(path, 0o644);
      await truncate(path, 30_000);
      await expectRefused(store, /has 30000 bytes|does not match its digest/);
    }
  });

  it('does not follow a link planted in the target folder', async () => {
    const src = await tempDir();
    await writeTree(src, { 'sub/w.bin': bytesOf(100) });
    const store = new LayoutTarget(join(await tempDir(), 'layout'));
    await packModel(specFor(src, [{ kind: 'weight', path: 'sub' }]), store, { tag: 'v1' });
    const out = await tempDir('modelship-target-');
    const elsewhere = await tempDir('modelship-elsewhere-');
    await symlink(elsewhere, join(out, 'sub'));
    await expect(unpack(store, 'v1', out)).rejects.toMatchObject({ code: 'UNPACK_UNSAFE_PATH', message: expect.stringContaining('through a link') });
    expect(await readdir(elsewhere)).toEqual([]);
    expect((await lstat(join(out, 'sub'))).isSymbolicLink()).toBe(true);
  });

  it('drops what an interrupted unpack left behind and never shows a partial file', async () => {
    const src = await tempDir();
    await writeTree(src, { 'w.bin': bytesOf(1000) });
    const store = new LayoutTarget(join(await tempDir(), 'layout'));
    await packModel(specFor(src, [{ kind: 'weight', path: 'w.bin' }]), store, { tag: 'v1' });
    const out = await tempDir('modelship-target-');
    await mkdir(join(out, '.modelship-unpack-deadbeef'));
    await writeFile(join(out, '.modelship-unpack-deadbeef', '0'), 'partial');
    await unpack(store, 'v1', out);
    expect(await readdir(out)).toEqual(['w.bin']);
  });
});

describe('unpack never writes through or over what the target holds when it fails', () => {
  it('refuses a link to a folder elsewhere, creating nothing there and changing no file', async () => {
    const out = await tempDir('modelship-target-');
    const outside = await tempDir('modelship-outside-');
    await symlink(outside, join(out, 'evil'));
    await writeFile(join(out, 'aaa.txt'), 'mine');
    const store = await artifact([
      { mediaType: RAW, bytes: Buffer.from('theirs'), annotations: { 'org.cncf.model.filepath': 'aaa.txt' } },
      { mediaType: TAR, bytes: await tarOf([{ name: 'evil/sub/x', body: 'x' }]) },
    ]);
    await expect(unpack(store, 'bad', out)).rejects.toMatchObject({ code: 'UNPACK_UNSAFE_PATH', message: expect.stringContaining('through a link: "evil"') });
    expect(await readdir(outside)).toEqual([]);
    expect(await readFile(join(out, 'aaa.txt'), 'utf8')).toBe('mine');
    expect((await readdir(out)).sort()).toEqual(['aaa.txt', 'evil']);
  });

  it('puts back every file it replaced and removes every folder it made when a later move fails', async () => {
    const out = await tempDir('modelship-target-');
    await writeFile(join(out, 'aaa.txt'), 'mine');
    // A name longer than the file system allows passes every check and fails only at the move (even as root).
    const store = await artifact([
      { mediaType: RAW, bytes: Buffer.from('theirs'), annotations: { 'org.cncf.model.filepath': 'aaa.txt' } },
      { mediaType: RAW, bytes: Buffer.from('new'), annotations: { 'org.cncf.model.filepath': `made/${'n'.repeat(300)}/new.txt` } },
    ]);
    await expect(unpack(store, 'bad', out)).rejects.toMatchObject({ code: 'UNPACK_FAILED', message: expect.stringContaining('nothing was unpacked') });
    expect(await readFile(join(out, 'aaa.txt'), 'utf8')).toBe('mine');
    expect(await readdir(out)).toEqual(['aaa.txt']);
  });
});

describe('unpack refuses control characters in file names', () => {
  it('in a tar entry and in a filepath annotation', async () => {
    await expectRefused(await artifact([{ mediaType: TAR, bytes: await tarOf([good, { name: '\x1b[2JFAKE OK', body: 'x' }]) }]), /contains control characters/);
    await expectRefused(await artifact([{ mediaType: RAW, bytes: Buffer.from('w'), annotations: { 'org.cncf.model.filepath': 'a\rb' } }]), /contains control characters/);
  });
});

/** A ustar header for one regular file of `size` bytes (written by hand: no packer streams 2 GiB to make a test). */
function ustarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string) => h.write(value, offset, length, 'ascii');
  field(0, 100, name);
  field(100, 8, '0000644\0');
  field(108, 8, '0000000\0');
  field(116, 8, '0000000\0');
  field(124, 12, `${size.toString(8).padStart(11, '0')}\0`);
  field(136, 12, '00000000000\0');
  field(156, 1, '0');
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** gzip members concatenated (gunzip reads them as one stream): `count` MiB of zeros cost about 1 KiB each. */
function gzipOfZeros(prefix: Buffer, mebibytes: number, suffix: Buffer): Buffer {
  const mib = gzipSync(Buffer.alloc(1024 * 1024));
  return Buffer.concat([gzipSync(prefix), ...Array.from({ length: mebibytes }, () => mib), gzipSync(suffix)]);
}

describe('unpack refuses decompression bombs', () => {
  const GZ = 'application/vnd.cncf.model.dataset.v1.tar+gzip';

  it('a 2 MiB tar+gzip layer holding a 2 GiB file, told by its header before inflating it', async () => {
    const bytes = gzipOfZeros(ustarHeader('zeros.bin', 2048 * 1024 * 1024), 2048, Buffer.alloc(1024));
    expect(bytes.length).toBeLessThan(3 * 1024 * 1024);
    const started = Date.now();
    await expectRefused(await artifact([{ mediaType: GZ, bytes }]), /expands past 256.0 MiB, more than 100 times its size.*--max-ratio/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('counts the inflated bytes too, whatever the headers say, and the limit can be lifted', async () => {
    // A small good tar followed by 260 MiB of zero blocks: tar reads them as the end, but they are still inflated.
    const bytes = gzipOfZeros(await tarOf([good]), 260, Buffer.alloc(0));
    const store = await artifact([{ mediaType: GZ, bytes }]);
    await expectRefused(store, /expands past 256.0 MiB/);
    const out = join(await tempDir('modelship-target-'), 'out');
    const lifted = await unpack(store, 'bad', out, { maxRatio: 0 });
    expect(lifted.files.map((f) => f.path)).toEqual(['fine.txt']);
  });
});
