import { createHash, createPrivateKey, sign } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '../../../modules/errors/index.js';
import { MEDIA_TYPE, type Descriptor } from '../../../modules/oci/types.js';
import {
  ANNOTATION_X509_CHAIN_THUMBPRINT,
  NOTATION_SIGNATURE_ARTIFACT_TYPE,
  notationReferrerManifest,
  parseNotationEnvelope,
  signNotation,
  verifyNotation,
  type NotationJws,
} from '../../../modules/sign/notation/index.js';
import { CODE_SIGNING_EXTENSIONS, makeCa, makeLeaf, openssl, opensslThumbprint, strictPolicy, tempDir, type Issued } from './pki.js';

const manifestBytes = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}');
const target: Descriptor = {
  mediaType: MEDIA_TYPE.ociManifest,
  digest: `sha256:${createHash('sha256').update(manifestBytes).digest('hex')}`,
  size: manifestBytes.length,
};
const reference = `registry.example/team/model@${target.digest}`;

let dir: string;
let ca: Issued;
let leaf: Issued;
let otherCa: Issued;

beforeAll(async () => {
  dir = await tempDir();
  ca = await makeCa(dir, 'test-ca');
  leaf = await makeLeaf(dir, 'signer', ca);
  otherCa = await makeCa(dir, 'other-ca');
}, 60_000);

function signed(extra: Partial<Parameters<typeof signNotation>[0]> = {}) {
  return signNotation({ descriptor: target, key: leaf.keyPem, certChain: [leaf.certPem, ca.certPem], ...extra });
}

function verifyBytes(bytes: Uint8Array | string, options: { policy?: string; stores?: Record<string, string>; target?: Descriptor; now?: Date } = {}) {
  return verifyNotation({
    envelope: bytes,
    target: options.target ?? target,
    trustPolicy: options.policy ?? strictPolicy(),
    trustStores: options.stores ?? { 'ca:test': ca.certPem },
    artifactReference: reference,
    ...(options.now ? { now: options.now } : {}),
  });
}

function reencode(envelope: NotationJws): string {
  return JSON.stringify(envelope);
}

describe('signNotation and verifyNotation round trip', () => {
  it('signs a manifest descriptor with a P-256 code-signing leaf and verifies under a strict policy', async () => {
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 + 60_678);
    const sig = await signed({ signingTime: at });
    const parsed = parseNotationEnvelope(sig.bytes);
    expect(parsed.protectedHeader).toEqual({
      alg: 'ES256',
      crit: ['io.cncf.notary.signingScheme'],
      cty: 'application/vnd.cncf.notary.payload.v1+json',
      'io.cncf.notary.signingScheme': 'notary.x509',
      // RFC 3339 without fractional seconds.
      'io.cncf.notary.signingTime': `${at.toISOString().slice(0, 19)}Z`,
    });
    expect(parsed.payload).toEqual({ targetArtifact: target });
    expect(parsed.jws.header['io.cncf.notary.signingAgent']).toBe('modelship');
    expect(parsed.certificates.map((c) => c.subject)).toEqual([expect.stringContaining('CN=signer'), expect.stringContaining('CN=test-ca Root')]);
    // JWS ES256 is raw r||s, 64 bytes, not a DER sequence.
    expect(Buffer.from(parsed.jws.signature, 'base64url').length).toBe(64);

    const result = await verifyBytes(sig.bytes);
    expect(result.reason).toMatch(/verified under trust policy statement "models"/);
    expect(result.ok).toBe(true);
    expect(result.checks.map((c) => [c.name, c.ok])).toEqual([
      ['integrity', true],
      ['authenticity', true],
      ['authenticTimestamp', true],
      ['expiry', true],
      ['revocation', true],
    ]);
  });

  it('signs with P-384 as ES384 and with RSA 2048 as PS256', async () => {
    const p384 = await makeLeaf(dir, 'signer384', ca, { spec: 'P-384' });
    const es384 = await signNotation({ descriptor: target, key: createPrivateKey(p384.keyPem), certChain: p384.certPem + ca.certPem });
    expect(parseNotationEnvelope(es384.bytes).protectedHeader.alg).toBe('ES384');
    expect(Buffer.from(es384.envelope.signature, 'base64url').length).toBe(96);
    expect((await verifyBytes(es384.bytes)).ok).toBe(true);

    const rsa = await makeLeaf(dir, 'signer-rsa', ca, { spec: 'RSA-2048' });
    const ps256 = await signNotation({ descriptor: target, key: rsa.keyPem, certChain: [rsa.certPem, ca.certPem] });
    expect(parseNotationEnvelope(ps256.bytes).protectedHeader.alg).toBe('PS256');
    expect((await verifyBytes(ps256.bytes)).ok).toBe(true);
  }, 60_000);

  it('puts the expiry in the protected header and marks it critical', async () => {
    const sig = await signed({ expiry: new Date(Date.now() + 86_400_000) });
    const header = parseNotationEnvelope(sig.bytes).protectedHeader;
    expect(header.crit).toEqual(['io.cncf.notary.signingScheme', 'io.cncf.notary.expiry']);
    expect(header['io.cncf.notary.expiry']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect((await verifyBytes(sig.bytes)).ok).toBe(true);
  });

  it('builds the referrer manifest with openssl-computed thumbprints of the chain', async () => {
    const sig = await signed();
    const { manifest, layer } = notationReferrerManifest(target, sig.bytes);
    expect(manifest.artifactType).toBe(NOTATION_SIGNATURE_ARTIFACT_TYPE);
    expect(manifest.config.mediaType).toBe('application/vnd.oci.empty.v1+json');
    expect(manifest.layers).toEqual([layer.descriptor]);
    expect(layer.descriptor.mediaType).toBe('application/jose+json');
    expect(layer.descriptor.digest).toBe(`sha256:${createHash('sha256').update(sig.bytes).digest('hex')}`);
    expect(manifest.subject).toEqual(target);
    const expected = [await opensslThumbprint(leaf.certPath, dir), await opensslThumbprint(ca.certPath, dir)];
    expect(JSON.parse(manifest.annotations![ANNOTATION_X509_CHAIN_THUMBPRINT]!)).toEqual(expected);
    expect(manifest.annotations!['org.opencontainers.image.created']).toBe(sig.envelope.protected && parseNotationEnvelope(sig.bytes).protectedHeader['io.cncf.notary.signingTime']);
  });
});

describe('verifyNotation failures name their cause', () => {
  it('fails integrity when the payload digest is changed after signing', async () => {
    const sig = await signed();
    const forged = { targetArtifact: { ...target, digest: `sha256:${'0'.repeat(64)}` } };
    const tampered = reencode({ ...sig.envelope, payload: Buffer.from(JSON.stringify(forged)).toString('base64url') });
    const result = await verifyBytes(tampered, { target: forged.targetArtifact });
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/^integrity: the signature does not verify with the signing certificate/);
    expect(result.checks).toHaveLength(1);
  });

  it('fails integrity when one signature byte is flipped', async () => {
    const sig = await signed();
    const bytes = Buffer.from(sig.envelope.signature, 'base64url');
    bytes[10] = bytes[10]! ^ 0x01;
    const result = await verifyBytes(reencode({ ...sig.envelope, signature: bytes.toString('base64url') }));
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/^integrity: the signature does not verify/);
  });

  it('fails integrity when the signature is for another artifact', async () => {
    const other: Descriptor = { ...target, digest: `sha256:${'a'.repeat(64)}` };
    const result = await verifyBytes((await signed()).bytes, { target: other });
    expect(result.ok).toBe(false);
    expect(result.reason).toBe(`integrity: the signature is for another artifact (digest ${target.digest} != ${other.digest})`);
  });

  it('fails authenticity for a chain from another CA', async () => {
    const stranger = await makeLeaf(dir, 'stranger', otherCa);
    const sig = await signNotation({ descriptor: target, key: stranger.keyPem, certChain: [stranger.certPem, otherCa.certPem] });
    const result = await verifyBytes(sig.bytes);
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/^authenticity: the certificate chain .*CN=stranger.* does not lead to a certificate in trust stores ca:test/);
  }, 30_000);

  it('fails authenticity for an identity not in trustedIdentities, and only logs it at audit level', async () => {
    const policy = strictPolicy(['x509.subject: C=US, ST=WA, O=someone-else']);
    const result = await verifyBytes((await signed()).bytes, { policy });
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/^authenticity: signing certificate subject ".*CN=signer" is not in trustedIdentities of statement "models"/);

    const matching = await verifyBytes((await signed()).bytes, { policy: strictPolicy(['x509.subject: C=US, ST=WA, O=modelship-test']) });
    expect(matching.ok).toBe(true);

    const audit = await verifyBytes((await signed()).bytes, { policy: strictPolicy(['x509.subject: C=US, ST=WA, O=someone-else'], 'audit') });
    expect(audit.ok).toBe(true);
    expect(audit.checks.find((c) => c.name === 'authenticity')).toMatchObject({ ok: false, action: 'log' });
  });

  it('fails expiry for a signature whose expiry has passed, and logs it at permissive level', async () => {
    const sig = await signed({ expiry: new Date(Date.now() + 3_600_000) });
    const later = new Date(Date.now() + 86_400_000);
    expect((await verifyBytes(sig.bytes)).ok).toBe(true);
    const result = await verifyBytes(sig.bytes, { now: later });
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/^expiry: the signature expired at /);
    const permissive = await verifyBytes(sig.bytes, { policy: strictPolicy(['*'], 'permissive'), now: later });
    expect(permissive.ok).toBe(true);
    expect(permissive.checks.find((c) => c.name === 'expiry')).toMatchObject({ ok: false, action: 'log' });
  });

  it('fails the authentic timestamp check once the chain has expired', async () => {
    const result = await verifyBytes((await signed()).bytes, { now: new Date(Date.now() + 40 * 86_400_000) });
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/^authenticTimestamp: certificate ".*CN=signer" is expired now \(.*\), with no authentic timestamp/);
  });

  it('fails revocation under strict when a certificate names a CRL it cannot query, and passes with override skip', async () => {
    const withCrl = await makeLeaf(dir, 'crl-signer', ca, { extensions: [...CODE_SIGNING_EXTENSIONS, 'crlDistributionPoints=URI:http://127.0.0.1:9/ca.crl'] });
    const sig = await signNotation({ descriptor: target, key: withCrl.keyPem, certChain: [withCrl.certPem, ca.certPem] });
    const strict = await verifyBytes(sig.bytes);
    expect(strict.ok).toBe(false);
    expect(strict.reason).toMatch(/^revocation: a certificate names a CRL or OCSP responder/);
    const policy = JSON.parse(strictPolicy()) as { trustPolicies: { signatureVerification: Record<string, unknown> }[] };
    policy.trustPolicies[0]!.signatureVerification.override = { revocation: 'skip' };
    const skipped = await verifyBytes(sig.bytes, { policy: JSON.stringify(policy) });
    expect(skipped.ok).toBe(true);
    expect(skipped.checks.at(-1)).toEqual({ name: 'revocation', ok: true, action: 'skip', detail: 'skipped by the trust policy' });
  }, 30_000);

  it('refuses an unknown critical header, as the specification requires', async () => {
    const key = createPrivateKey(leaf.keyPem);
    const header = {
      alg: 'ES256',
      crit: ['io.cncf.notary.signingScheme', 'io.cncf.notary.verificationPlugin'],
      cty: 'application/vnd.cncf.notary.payload.v1+json',
      'io.cncf.notary.signingScheme': 'notary.x509',
      'io.cncf.notary.signingTime': '2026-01-01T00:00:00Z',
      'io.cncf.notary.verificationPlugin': 'com.example.plugin',
    };
    const protectedB64 = Buffer.from(JSON.stringify(header)).toString('base64url');
    const payloadB64 = Buffer.from(JSON.stringify({ targetArtifact: target })).toString('base64url');
    const signature = sign('sha256', Buffer.from(`${protectedB64}.${payloadB64}`), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    const envelope = { payload: payloadB64, protected: protectedB64, header: { x5c: (await signed()).envelope.header.x5c }, signature };
    const result = await verifyBytes(JSON.stringify(envelope));
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/critical header io\.cncf\.notary\.verificationPlugin is not understood .*com\.example\.plugin/);
  });

  it('selects the statement by registry scope and refuses a repository no statement covers', async () => {
    const scoped = JSON.stringify({
      version: '1.0',
      trustPolicies: [
        { name: 'team', registryScopes: ['registry.example/team/model'], signatureVerification: { level: 'strict' }, trustStores: ['ca:test'], trustedIdentities: ['*'] },
        { name: 'others', registryScopes: ['registry.example/other/model'], signatureVerification: { level: 'skip' } },
      ],
    });
    expect(await verifyBytes((await signed()).bytes, { policy: scoped })).toMatchObject({ ok: true, policy: 'team' });
    let error: unknown;
    try {
      await verifyNotation({ envelope: (await signed()).bytes, target, trustPolicy: scoped, trustStores: { 'ca:test': ca.certPem }, artifactReference: `registry.example/nobody/model@${target.digest}` });
    } catch (err) {
      error = err;
    }
    expect(hasCode(error, 'NOTATION_NO_POLICY')).toBe(true);
    expect((error as Error).message).toMatch(/registry\.example\/nobody\/model/);
  });

  it('reports a trust store the policy names but the caller did not give', async () => {
    await expect(verifyBytes((await signed()).bytes, { stores: { 'ca:elsewhere': ca.certPem } })).rejects.toThrow(/trust store ca:test but none was given: pass --trust-store ca:test=FILE/);
    await expect(verifyBytes((await signed()).bytes, { stores: { 'ca:test': 'not a certificate' } })).rejects.toThrow(/trust store ca:test holds no PEM certificate/);
  });
});

describe('signNotation refuses what verifiers would reject', () => {
  it('refuses a leaf without the digitalSignature key usage or with the serverAuth EKU', async () => {
    const tls = await makeLeaf(dir, 'tls-leaf', ca, { extensions: ['keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth'] });
    let error: unknown;
    try {
      await signNotation({ descriptor: target, key: tls.keyPem, certChain: [tls.certPem, ca.certPem] });
    } catch (err) {
      error = err;
    }
    expect(hasCode(error, 'NOTATION_CERT_INVALID')).toBe(true);
    expect((error as Error).message).toMatch(/keyUsage must not include keyEncipherment/);
    expect((error as Error).message).toMatch(/extendedKeyUsage must not include serverAuth/);

    const noKu = await makeLeaf(dir, 'no-ku', ca, { extensions: ['extendedKeyUsage=codeSigning'] });
    await expect(signNotation({ descriptor: target, key: noKu.keyPem, certChain: [noKu.certPem, ca.certPem] })).rejects.toThrow(/has no keyUsage extension/);
  }, 60_000);

  it('refuses a key that does not match the leaf and a chain without its root', async () => {
    await expect(signNotation({ descriptor: target, key: otherCa.keyPem, certChain: [leaf.certPem, ca.certPem] })).rejects.toThrow(/does not belong to the first certificate/);
    await expect(signNotation({ descriptor: target, key: leaf.keyPem, certChain: [leaf.certPem] })).rejects.toThrow(/not a self-signed root: include the root certificate/);
  });
});

describe('the ES256 signature as OpenSSL sees it', () => {
  it('verifies with `openssl dgst` once r||s is re-encoded as DER', async () => {
    const sig = await signed();
    const raw = Buffer.from(sig.envelope.signature, 'base64url');
    // DER INTEGER: strip leading zeros, add one back when the high bit is set.
    const integer = (b: Buffer) => {
      let v = b;
      while (v.length > 1 && v[0] === 0 && v[1]! < 0x80) v = v.subarray(1);
      if (v[0]! >= 0x80) v = Buffer.concat([Buffer.from([0]), v]);
      return Buffer.concat([Buffer.from([0x02, v.length]), v]);
    };
    const body = Buffer.concat([integer(raw.subarray(0, 32)), integer(raw.subarray(32))]);
    await writeFile(join(dir, 'sig.der'), Buffer.concat([Buffer.from([0x30, body.length]), body]));
    await writeFile(join(dir, 'input.txt'), `${sig.envelope.protected}.${sig.envelope.payload}`);
    await openssl(['x509', '-in', leaf.certPath, '-pubkey', '-noout', '-out', join(dir, 'leaf-pub.pem')]);
    const out = await openssl(['dgst', '-sha256', '-verify', join(dir, 'leaf-pub.pem'), '-signature', join(dir, 'sig.der'), join(dir, 'input.txt')]);
    expect(out.trim()).toBe('Verified OK');
  });
});
