import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachDocument, CREATED_ANNOTATION, TITLE_ANNOTATION } from '../../modules/attach/index.js';
import { modelCardDocument } from '../../modules/card/index.js';
import { encodeManifest, EMPTY_DESCRIPTOR, fetchManifest, LayoutTarget, referrers, type ImageManifest } from '../../modules/oci/index.js';

describe('attachDocument', () => {
  let dir: string;
  let layout: LayoutTarget;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'attach-doc-'));
    layout = new LayoutTarget(path.join(dir, 'layout'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function subject(tag: string) {
    const { bytes, descriptor } = encodeManifest({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: `application/vnd.example.${tag}`,
      config: EMPTY_DESCRIPTOR,
      layers: [EMPTY_DESCRIPTOR],
    });
    await layout.push(EMPTY_DESCRIPTOR, new TextEncoder().encode('{}'));
    await layout.push(descriptor, bytes);
    await layout.tag(descriptor, tag);
    return descriptor;
  }

  it('titles the layer and the manifest, and records the time only when asked', async () => {
    const model = await subject('plain');
    const referrer = await attachDocument(layout, model, modelCardDocument('# card\n'));
    const manifest = (await fetchManifest(layout, referrer, 'referrer')) as ImageManifest;
    expect(manifest.subject?.digest).toBe(model.digest);
    expect(manifest.artifactType).toBe('application/vnd.modelship.card.model.v1+markdown');
    expect(manifest.layers[0]!.annotations?.[TITLE_ANNOTATION]).toBe('README.md');
    expect(manifest.annotations?.[CREATED_ANNOTATION]).toBeUndefined();

    const timed = await subject('timed');
    const stamped = await attachDocument(layout, timed, modelCardDocument('# card\n'), { created: new Date('2026-01-02T03:04:05.678Z') });
    const stampedManifest = (await fetchManifest(layout, stamped, 'referrer')) as ImageManifest;
    expect(stampedManifest.annotations?.[CREATED_ANNOTATION]).toBe('2026-01-02T03:04:05Z');
  });

  it('returns the referrer already there for the same bytes, and adds one for new bytes', async () => {
    const model = await subject('again');
    const first = await attachDocument(layout, model, modelCardDocument('# v1\n'), { created: new Date() });
    const second = await attachDocument(layout, model, modelCardDocument('# v1\n'), { created: new Date(Date.now() + 5000) });
    expect(second.digest).toBe(first.digest);
    expect(await referrers(layout, model)).toHaveLength(1);
    const changed = await attachDocument(layout, model, modelCardDocument('# v2\n'));
    expect(changed.digest).not.toBe(first.digest);
    expect((await referrers(layout, model)).map((r) => r.digest).sort()).toEqual([first.digest, changed.digest].sort());
  });
});
