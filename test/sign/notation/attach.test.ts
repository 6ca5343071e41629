import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LayoutTarget, attach, encodeManifest, readAllVerified, referrers, EMPTY_DESCRIPTOR, MAX_MANIFEST_BYTES, MEDIA_TYPE, type ImageManifest } from '../../../modules/oci/index.js';
import { NOTATION_SIGNATURE_ARTIFACT_TYPE, notationReferrerManifest, signNotation, verifyNotation } from '../../../modules/sign/notation/index.js';
import { makeCa, makeLeaf, strictPolicy, tempDir } from './pki.js';

describe('a Notation signature stored in an OCI layout', () => {
  it('is found as a referrer of the model manifest and verifies from the stored layer', async () => {
    const dir = await tempDir();
    const ca = await makeCa(dir, 'layout-ca');
    const leaf = await makeLeaf(dir, 'layout-signer', ca);
    const layout = new LayoutTarget(join(dir, 'layout'));
    await layout.init();
    const model: ImageManifest = { schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, artifactType: 'application/vnd.cncf.model.manifest.v1+json', config: EMPTY_DESCRIPTOR, layers: [EMPTY_DESCRIPTOR] };
    const { bytes, descriptor } = encodeManifest(model);
    await layout.push(EMPTY_DESCRIPTOR, new TextEncoder().encode('{}'));
    await layout.push(descriptor, bytes);
    await layout.tag(descriptor, 'v1');

    const sig = await signNotation({ descriptor, key: leaf.keyPem, certChain: [leaf.certPem, ca.certPem] });
    const { manifest, layer } = notationReferrerManifest(descriptor, sig.bytes);
    await layout.push(layer.descriptor, layer.bytes);
    await attach(layout, descriptor, manifest);

    const found = await referrers(layout, descriptor, NOTATION_SIGNATURE_ARTIFACT_TYPE);
    expect(found).toHaveLength(1);
    expect(found[0]!.annotations?.['io.cncf.notary.x509chain.thumbprint#S256']).toBe(manifest.annotations!['io.cncf.notary.x509chain.thumbprint#S256']);
    const stored = JSON.parse(Buffer.from(await readAllVerified(await layout.fetch(found[0]!), found[0]!, MAX_MANIFEST_BYTES)).toString()) as ImageManifest;
    const envelope = await readAllVerified(await layout.fetch(stored.layers[0]!), stored.layers[0]!, MAX_MANIFEST_BYTES);
    const result = await verifyNotation({
      envelope,
      target: await layout.resolve('v1'),
      trustPolicy: strictPolicy(),
      trustStores: { 'ca:test': ca.certPem },
      artifactReference: `localhost/team/model@${descriptor.digest}`,
    });
    expect(result.reason).toMatch(/^verified/);
  }, 30_000);
});
