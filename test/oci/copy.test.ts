import { readdir, rm, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CopyError, LayoutTarget, MemoryTarget, attach, buildArtifactManifest, copy, descriptorOf, encodeManifest, referrers } from '../../modules/oci/index.js';
import { MEDIA_TYPE, type Content, type Descriptor } from '../../modules/oci/types.js';
import type { Reporter } from '../../modules/progress/index.js';
import { pushImage, sampleImage, tempDir } from './fixtures.js';

/** Counts pushes and the most at once, around a real MemoryTarget. */
class CountingTarget extends MemoryTarget {
  active = 0;
  peak = 0;
  pushes: string[] = [];
  override async push(desc: Descriptor, content: Content): Promise<void> {
    this.active++;
    this.peak = Math.max(this.peak, this.active);
    this.pushes.push(desc.digest);
    try {
      await new Promise((r) => setTimeout(r, 5));
      await super.push(desc, content);
    } finally {
      this.active--;
    }
  }
}

function recordingReporter() {
  const events: string[] = [];
  const reporter: Reporter = {
    start: (id) => events.push(`start ${id}`),
    advance: () => {},
    finish: (id, status) => events.push(`${status} ${id}`),
    note: () => {},
  };
  return { events, reporter };
}

describe('copy', () => {
  it('copies a layout to a layout, children first, then skips what is there', async () => {
    const src = new LayoutTarget(await tempDir());
    const image = sampleImage([1000, 2000, 3000]);
    await pushImage(src, image, 'v1');
    const dst = new CountingTarget();
    const { reporter, events } = recordingReporter();
    const first = await copy(src, 'v1', dst, 'copied', { reporter });
    expect(first).toMatchObject({ copied: 5, skipped: 0, mounted: 0, bytes: 6000 + image.blobs[0]!.descriptor.size + image.descriptor.size });
    expect(dst.pushes[dst.pushes.length - 1]).toBe(image.descriptor.digest);
    expect(events.filter((e) => e.startsWith('done'))).toHaveLength(5);
    expect((await dst.resolve('copied')).digest).toBe(image.descriptor.digest);

    const again = await copy(src, 'v1', dst, 'copied');
    expect(again).toMatchObject({ copied: 0, skipped: 1, bytes: 0 });

    // A new image sharing the config and two layers: only the new layer and manifest move.
    const extra = sampleImage([500]).blobs[1]!;
    await src.push(extra.descriptor, extra.bytes);
    const sibling = encodeManifest({ ...image.manifest, layers: [...image.manifest.layers.slice(0, 2), extra.descriptor] });
    await src.push(sibling.descriptor, sibling.bytes);
    await src.tag(sibling.descriptor, 'v2');
    const third = await copy(src, 'v2', dst, 'v2');
    expect(third).toMatchObject({ copied: 2, skipped: 3, bytes: 500 + sibling.descriptor.size });
  });

  it('bounds concurrency and never pushes a digest twice', async () => {
    const src = new MemoryTarget();
    const shared = sampleImage(Array.from({ length: 12 }, (_, i) => 100 + i));
    const other = { ...shared.manifest, annotations: { variant: 'b' } };
    await pushImage(src, shared);
    const otherBytes = encodeManifest(other);
    await src.push(otherBytes.descriptor, otherBytes.bytes);
    const index = encodeManifest({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests: [shared.descriptor, otherBytes.descriptor] });
    await src.push(index.descriptor, index.bytes);
    await src.tag(index.descriptor, 'multi');
    for (const concurrency of [1, 3, 5]) {
      const dst = new CountingTarget();
      const result = await copy(src, 'multi', dst, 'multi', { concurrency });
      expect(result.copied).toBe(13 + 3);
      expect(dst.peak).toBeLessThanOrEqual(concurrency);
      expect(new Set(dst.pushes).size).toBe(dst.pushes.length);
      if (concurrency > 1) expect(dst.peak).toBeGreaterThan(1);
    }
  });

  it('copies a blob of unknown media type byte for byte', async () => {
    const src = new MemoryTarget();
    const odd = new TextEncoder().encode('{"not":"a manifest", "schemaVersion": 7}');
    const oddDesc = descriptorOf(odd, 'application/vnd.example.unknown+json');
    const manifest = await buildArtifactManifest(src, { artifactType: 'application/vnd.example.thing', layers: [{ descriptor: oddDesc, content: odd }] });
    const { bytes, descriptor } = encodeManifest(manifest);
    await src.push(descriptor, bytes);
    await src.tag(descriptor, 'odd');
    const dir = await tempDir();
    const dst = new LayoutTarget(dir);
    await copy(src, 'odd', dst, 'odd');
    const out = await dst.fetch(oddDesc);
    const chunks: Buffer[] = [];
    for await (const c of out) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks)).toEqual(Buffer.from(odd));
  });

  it('copies referrers recursively and keeps them listable', async () => {
    const src = new LayoutTarget(await tempDir());
    const image = sampleImage([10]);
    await pushImage(src, image, 'v1');
    const sbomBytes = new TextEncoder().encode('{"sbom":true}');
    const sbom = await attach(
      src,
      image.descriptor,
      await buildArtifactManifest(src, { artifactType: 'application/spdx+json', layers: [{ descriptor: descriptorOf(sbomBytes, 'application/spdx+json'), content: sbomBytes }] }),
    );
    const sbomSig = await attach(src, sbom, await buildArtifactManifest(src, { artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json', layers: [] }));
    const dst = new LayoutTarget(await tempDir());
    const plain = await copy(src, 'v1', dst, 'v1');
    expect(await referrers(dst, image.descriptor)).toEqual([]);
    expect(plain.copied).toBe(3);
    const withRefs = await copy(src, 'v1', dst, 'v1', { referrers: true });
    expect(withRefs.skipped).toBe(1);
    expect(await referrers(dst, image.descriptor)).toEqual([sbom]);
    expect(await referrers(dst, sbom)).toEqual([sbomSig]);
  });

  it('says which side failed: a blob missing at the source', async () => {
    const dir = await tempDir();
    const src = new LayoutTarget(dir);
    const image = sampleImage([10, 20]);
    await pushImage(src, image, 'v1');
    await rm(join(dir, 'blobs', 'sha256', image.blobs[2]!.descriptor.digest.slice(7)));
    const err = await copy(src, 'v1', new MemoryTarget(), 'v1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CopyError);
    expect(err).toMatchObject({ code: 'OCI_NOT_FOUND', side: 'source', details: { side: 'source', op: 'fetch' } });
    expect(String(err)).toContain(image.blobs[2]!.descriptor.digest);
    expect(String(err)).toContain(dir);
  });

  it('a corrupt source blob fails as the source and leaves the destination clean', async () => {
    const dir = await tempDir();
    const src = new LayoutTarget(dir);
    const image = sampleImage([50_000]);
    await pushImage(src, image, 'v1');
    const path = join(dir, 'blobs', 'sha256', image.blobs[1]!.descriptor.digest.slice(7));
    await chmod(path, 0o644);
    await writeFile(path, Buffer.alloc(50_000, 1));
    const dstDir = await tempDir();
    const err = await copy(src, 'v1', new LayoutTarget(dstDir), 'v1').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OCI_DIGEST_MISMATCH', side: 'source' });
    const left = await readdir(join(dstDir, 'ingest')).catch(() => []);
    expect(left).toEqual([]);
    await expect(new LayoutTarget(dstDir).resolve('v1')).rejects.toMatchObject({ code: 'OCI_NOT_FOUND' });
  });

  it('hands the destination reopenable content that resumes from an offset', async () => {
    const src = new LayoutTarget(await tempDir());
    const image = sampleImage([300_000]);
    await pushImage(src, image, 'v1');
    const layer = image.blobs[1]!;
    const reopened: number[] = [];
    /** Reads part of each blob, drops the stream as a broken upload would, then resumes from where it stopped. */
    class InterruptedTarget extends MemoryTarget {
      override async push(desc: Descriptor, content: Content): Promise<void> {
        if (!(content instanceof Uint8Array) && 'open' in content && !('pipe' in content) && desc.size > 1000) {
          const first = await content.open(0);
          const head: Buffer[] = [];
          let got = 0;
          for await (const chunk of first) {
            head.push(chunk as Buffer);
            got += (chunk as Buffer).length;
            if (got >= 1000) break;
          }
          const kept = Buffer.concat(head).subarray(0, 1000);
          reopened.push(kept.length);
          const rest: Buffer[] = [];
          for await (const chunk of await content.open(kept.length)) rest.push(chunk as Buffer);
          return super.push(desc, Buffer.concat([kept, ...rest]));
        }
        return super.push(desc, content);
      }
    }
    const dst = new InterruptedTarget();
    await copy(src, 'v1', dst, 'v1');
    expect(reopened).toEqual([1000]);
    expect(await dst.exists(layer.descriptor)).toBe(true);
  });
});
