import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isModelshipError } from '../../modules/errors/index.js';
import { LayoutTarget } from '../../modules/oci/layout.js';
import { MAX_MANIFEST_BYTES } from '../../modules/oci/types.js';
import { pushBytes, pushManifest } from '../../modules/modelpack/content.js';
import { modelPackManifest } from '../../modules/modelpack/manifest.js';
import { tempDir } from './helpers.js';

// distribution v2.8+ registry/handlers/manifests.go: maxManifestBodySize = 4 << 20; a larger PUT is refused.
describe('a manifest registries accept', () => {
  it('refuses to store a manifest over 4 MiB, naming its size and what to do; nothing is written', async () => {
    const root = join(await tempDir(), 'store');
    const store = new LayoutTarget(root);
    const config = await pushBytes(store, 'application/vnd.cncf.model.config.v1+json', new TextEncoder().encode('{}'));
    const listing = 'x'.repeat(MAX_MANIFEST_BYTES);
    const manifest = modelPackManifest(config, [], { 'dev.modelship.test': listing });
    const err = await pushManifest(store, manifest).then(() => undefined, (e: unknown) => e);
    expect(isModelshipError(err) && err.code).toBe('OCI_SIZE_LIMIT');
    expect(String((err as Error).message)).toMatch(/over the 4194304-byte limit registries accept.*pack fewer files/);
    const blobs = await readdir(join(root, 'blobs', 'sha256'));
    expect(blobs).toEqual([config.digest.slice('sha256:'.length)]);
  });

  it('stores one just under the limit', async () => {
    const store = new LayoutTarget(join(await tempDir(), 'store'));
    const config = await pushBytes(store, 'application/vnd.cncf.model.config.v1+json', new TextEncoder().encode('{}'));
    const manifest = modelPackManifest(config, [], { 'dev.modelship.test': 'x'.repeat(MAX_MANIFEST_BYTES - 2_000) });
    const desc = await pushManifest(store, manifest);
    expect(desc.size).toBeLessThanOrEqual(MAX_MANIFEST_BYTES);
    expect(await store.exists(desc)).toBe(true);
  });
});
