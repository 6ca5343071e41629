import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '../../../modules/errors/index.js';
import {
  applicableTrustPolicy,
  integrityProblem,
  parseNotationEnvelope,
  parseTrustPolicy,
  verifyNotation,
  x509ChainThumbprints,
  type NotationJws,
} from '../../../modules/sign/notation/index.js';
import { notationInterop, openssl, opensslThumbprint, tempDir } from './pki.js';

// notation-go internal/testdata/jws_signature.sig: PS256, notary.x509, one self-signed certificate CN=alpine.
let sample: Buffer;
let samplePem: string;
let samplePemPath: string;
let dir: string;

beforeAll(async () => {
  sample = await readFile(join(notationInterop, 'jws_signature.sig'));
  dir = await tempDir();
  const der = join(dir, 'alpine.der');
  samplePemPath = join(dir, 'alpine.pem');
  await writeFile(der, Buffer.from((JSON.parse(sample.toString()) as NotationJws).header.x5c[0]!, 'base64'));
  await openssl(['x509', '-inform', 'DER', '-in', der, '-out', samplePemPath]);
  samplePem = await readFile(samplePemPath, 'utf8');
}, 30_000);

const sampleTarget = {
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: 'sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0',
  size: 481,
};

describe('the real notation-go JWS signature', () => {
  it('parses: protected headers, payload and the x5c chain', async () => {
    const parsed = parseNotationEnvelope(sample, 'jws_signature.sig');
    expect(parsed.protectedHeader.alg).toBe('PS256');
    expect(parsed.protectedHeader['io.cncf.notary.signingScheme']).toBe('notary.x509');
    expect(parsed.protectedHeader.crit).toEqual(['io.cncf.notary.signingScheme']);
    expect(parsed.signingTime.toISOString()).toBe('2023-03-14T08:10:02.000Z');
    expect(parsed.expiry).toBeUndefined();
    expect(parsed.payload.targetArtifact).toEqual(sampleTarget);
    expect(parsed.certificates).toHaveLength(1);
    expect(parsed.certificates[0]!.subject).toBe('C=US\nST=WA\nL=Seattle\nO=Notary\nCN=alpine');
    expect(parsed.jws.header['io.cncf.notary.signingAgent']).toMatch(/notation/i);
    expect(JSON.parse(x509ChainThumbprints(parsed.certificates))).toEqual([await opensslThumbprint(samplePemPath, dir)]);
  });

  it('verifies its integrity (PS256 over its own protected.payload with its leaf key)', async () => {
    expect(await integrityProblem(parseNotationEnvelope(sample))).toBeUndefined();
  });

  it('verifies end to end under the upstream quickstart trust policy with its root as trust store', async () => {
    const policy = await readFile(join(notationInterop, 'trustpolicy.oci.json'), 'utf8');
    const result = await verifyNotation({
      envelope: sample,
      target: sampleTarget,
      trustPolicy: policy,
      trustStores: { 'ca:wabbit-networks.io': samplePem },
      artifactReference: `localhost:5000/net-monitor@${sampleTarget.digest}`,
    });
    expect(result.reason).toBe('verified under trust policy statement "wabbit-networks-images" (strict)');
    expect(result.checks.every((c) => c.ok && c.action === 'enforce')).toBe(true);
    const pinned = await verifyNotation({
      envelope: sample,
      target: sampleTarget,
      trustPolicy: policy.replace('"*"\n            ]', '"x509.subject: C=US, ST=WA, O=Notary, CN=alpine"\n            ]'),
      trustStores: { 'ca:wabbit-networks.io': samplePem },
      artifactReference: `localhost:5000/net-monitor@${sampleTarget.digest}`,
    });
    expect(pinned.ok).toBe(true);
  });

  it('fails integrity once any signature character changes', async () => {
    const jws = JSON.parse(sample.toString()) as NotationJws;
    const flipped = jws.signature[20] === 'A' ? 'B' : 'A';
    const tampered = JSON.stringify({ ...jws, signature: jws.signature.slice(0, 20) + flipped + jws.signature.slice(21) });
    expect(await integrityProblem(parseNotationEnvelope(tampered))).toMatch(/does not verify with the signing certificate/);
  });
});

describe('the real notation trust policies', () => {
  it('parses the OCI quickstart policy', async () => {
    const doc = parseTrustPolicy(await readFile(join(notationInterop, 'trustpolicy.oci.json'), 'utf8'), 'trustpolicy.oci.json');
    expect(doc).toEqual({
      kind: 'oci',
      version: '1.0',
      trustPolicies: [
        { name: 'wabbit-networks-images', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:wabbit-networks.io'], trustedIdentities: ['*'] },
      ],
    });
    expect(applicableTrustPolicy(doc, 'registry.example/any/repo@sha256:' + 'a'.repeat(64)).name).toBe('wabbit-networks-images');
  });

  it('recognises the blob policy and refuses it for registry artifacts', async () => {
    const doc = parseTrustPolicy(await readFile(join(notationInterop, 'trustpolicy.blob.json'), 'utf8'), 'trustpolicy.blob.json');
    expect(doc.kind).toBe('blob');
    expect(doc.trustPolicies.map((p) => p.name)).toEqual(['test-blob-statement', 'test-blob-global-statement', 'test-blob-with-timestamping']);
    expect(doc.kind === 'blob' && doc.trustPolicies.filter((p) => p.globalPolicy).map((p) => p.name)).toEqual(['test-blob-global-statement']);
    let error: unknown;
    try {
      applicableTrustPolicy(doc, 'registry.example/any/repo@sha256:' + 'a'.repeat(64));
    } catch (err) {
      error = err;
    }
    expect(hasCode(error, 'NOTATION_POLICY_KIND')).toBe(true);
    expect((error as Error).message).toMatch(/blob trust policy .*notation blob sign/);
  });
});
