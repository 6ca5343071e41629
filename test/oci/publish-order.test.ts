/**
 * A push cut short must never leave the tag on an artifact whose signature, SBOM or MOF report did not
 * land: manifests go by digest, then referrers, and the tag last. A proxy fails every manifest PUT from
 * the k-th on, for each k, against the real registry.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LayoutTarget, attach, buildArtifactManifest, copy, descriptorOf, referrers } from '../../modules/oci/index.js';
import { RemoteTarget } from '../../modules/oci/remote/index.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { uniqueRepo } from './remote/helpers.js';
import { pushImage, sampleImage, tempDir } from './fixtures.js';

const registry = inject('registry');
const options = { plainHttp: true, retry: { attempts: 2, baseDelayMs: 5 } };

async function signedImage(label: string) {
  const layout = new LayoutTarget(await tempDir());
  const image = sampleImage([2000, 3000], label);
  await pushImage(layout, image, 'v1');
  const sbomBytes = new TextEncoder().encode(`{"spdxVersion":"SPDX-2.3","name":"${label}"}`);
  const sbom = await attach(layout, image.descriptor, await buildArtifactManifest(layout, {
    artifactType: 'application/spdx+json',
    layers: [{ descriptor: descriptorOf(sbomBytes, 'application/spdx+json'), content: sbomBytes }],
  }));
  const sig = await attach(layout, image.descriptor, await buildArtifactManifest(layout, { artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json', layers: [], annotations: { label } }));
  return { layout, image, sbom, sig };
}

describe('publishing order: tag last', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy(registry);
  });
  afterAll(() => proxy?.stop());

  it('never moves the tag to an artifact whose referrers are missing, wherever the push is cut', async () => {
    const old = await signedImage('old');
    const next = await signedImage('new');
    let cuts = 0;
    for (let k = 1; k < 20; k++) {
      const name = uniqueRepo('publish-order');
      const direct = new RemoteTarget(registry, name, options);
      // An existing, signed version under the tag.
      await copy(old.layout, 'v1', direct, 'v1', { referrers: true });
      let puts = 0;
      proxy.rule = (req) =>
        req.method === 'PUT' && req.url.includes('/manifests/') && ++puts >= k
          ? { kind: 'respond', status: 400, body: JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message: 'injected fault' }] }) }
          : undefined;
      const viaProxy = new RemoteTarget(proxy.host, name, options);
      const failed = await copy(next.layout, 'v1', viaProxy, 'v1', { referrers: true }).then(() => false, () => true);
      proxy.rule = () => undefined;
      const tagged = await direct.resolve('v1');
      if (tagged.digest === next.image.descriptor.digest) {
        // The tag moved: then everything it needs is there.
        const found = (await referrers(direct, next.image.descriptor)).map((d) => d.digest).sort();
        expect(found, `cut at manifest PUT ${k}`).toEqual([next.sbom.digest, next.sig.digest].sort());
        expect(failed, `cut at manifest PUT ${k}`).toBe(false);
        break;
      }
      expect(tagged.digest, `cut at manifest PUT ${k}`).toBe(old.image.descriptor.digest);
      expect(failed).toBe(true);
      cuts++;
    }
    // Manifest, two referrers recorded and the tag: several cut points were tried before one let it through.
    expect(cuts).toBeGreaterThanOrEqual(3);
  });
});
