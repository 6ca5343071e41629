import { createHash, createHmac, createPrivateKey, sign } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '../../../modules/errors/index.js';
import { MEDIA_TYPE, type Descriptor } from '../../../modules/oci/types.js';
import { formatNotaryTime, signNotation, verifyNotation } from '../../../modules/sign/notation/index.js';
import {
  BasicConstraintsExtension,
  caExtensions,
  codeSigningExtensions,
  DAY,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  issue,
  KeyUsageFlags,
  KeyUsagesExtension,
  makeRoot,
  UNKNOWN_CRITICAL,
  type TestCert,
} from '../hostile-pki.js';
import { strictPolicy } from './pki.js';

const manifest = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}');
const target: Descriptor = { mediaType: MEDIA_TYPE.ociManifest, digest: `sha256:${createHash('sha256').update(manifest).digest('hex')}`, size: manifest.length };
const reference = `registry.example/team/model@${target.digest}`;

let root: TestCert;
let int: TestCert;
let leaf: TestCert;

beforeAll(async () => {
  root = await makeRoot('notation-root', { notBefore: new Date(Date.now() - 30 * DAY) });
  int = await issue(root, 'notation-int', { extensions: caExtensions(), notBefore: new Date(Date.now() - 30 * DAY) });
  leaf = await issue(int, 'notation-leaf');
}, 30_000);

function verify(envelope: string | Uint8Array, level = 'strict') {
  return verifyNotation({ envelope, target, trustPolicy: strictPolicy(['*'], level), trustStores: { 'ca:test': root.pem }, artifactReference: reference });
}

/** An envelope signed by this test with node:crypto, outside signNotation's refusals: any header, any chain. */
function forge(signer: TestCert, chain: TestCert[], header: Record<string, unknown> = {}, options: { hash?: string; signingTime?: Date } = {}): string {
  const protectedHeader = {
    alg: 'ES256',
    crit: ['io.cncf.notary.signingScheme'],
    cty: 'application/vnd.cncf.notary.payload.v1+json',
    'io.cncf.notary.signingScheme': 'notary.x509',
    'io.cncf.notary.signingTime': formatNotaryTime(options.signingTime ?? new Date()),
    ...header,
  };
  const encodedProtected = Buffer.from(JSON.stringify(protectedHeader)).toString('base64url');
  const encodedPayload = Buffer.from(JSON.stringify({ targetArtifact: target })).toString('base64url');
  const input = Buffer.from(`${encodedProtected}.${encodedPayload}`);
  const signature = sign(options.hash ?? 'sha256', input, { key: createPrivateKey(signer.keyPem), dsaEncoding: 'ieee-p1363' }).toString('base64url');
  return JSON.stringify({ payload: encodedPayload, protected: encodedProtected, header: { x5c: chain.map((c) => c.der.toString('base64')) }, signature });
}

describe('the forging helper produces envelopes the verifier accepts', () => {
  it('verifies a forged envelope over a well-formed chain, so each refusal below is the one thing changed', async () => {
    expect((await verify(forge(leaf, [leaf, int, root]))).reason).toMatch(/^verified under trust policy statement "models"/);
  });
});

describe('certificate extensions', () => {
  it('verifies a leaf with an unknown critical extension: the specification honours only basicConstraints, keyUsage and EKU and says others MUST NOT be evaluated', async () => {
    const marked = await issue(int, 'marked', { extensions: [...codeSigningExtensions(), UNKNOWN_CRITICAL()] });
    const sig = await signNotation({ descriptor: target, key: marked.keyPem, certChain: [marked.pem, int.pem, root.pem] });
    expect((await verify(sig.bytes)).ok).toBe(true);
  });

  it('an unknown critical extension does not hide the keyUsage rules', async () => {
    const marked = await issue(int, 'marked-encipher', { extensions: [new KeyUsagesExtension(KeyUsageFlags.keyEncipherment, true), UNKNOWN_CRITICAL()] });
    const result = await verify(forge(marked, [marked, int, root]));
    expect(result.reason).toMatch(/^integrity: .*CN=marked-encipher": keyUsage lacks digitalSignature; .*keyUsage must not include keyEncipherment/);
  });

  it('fails integrity for a leaf whose extended key usage is serverAuth or timeStamping, even at audit level', async () => {
    for (const [name, eku] of [['tls-leaf', ExtendedKeyUsage.serverAuth], ['tsa-leaf', ExtendedKeyUsage.timeStamping]] as const) {
      const wrong = await issue(int, name, { extensions: [new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true), new ExtendedKeyUsageExtension([eku])] });
      await expect(signNotation({ descriptor: target, key: wrong.keyPem, certChain: [wrong.pem, int.pem, root.pem] })).rejects.toThrow(/extendedKeyUsage must not include/);
      const audit = await verify(forge(wrong, [wrong, int, root]), 'audit');
      expect(audit.ok).toBe(false);
      expect(audit.reason).toMatch(new RegExp(`^integrity: .*CN=${name}": extendedKeyUsage must not include ${name === 'tls-leaf' ? 'serverAuth' : 'timeStamping'}`));
    }
  });

  it('fails integrity for a chain through an intermediate that is not a CA', async () => {
    const fake = await issue(root, 'not-a-ca', { extensions: [new BasicConstraintsExtension(false, undefined, true), new KeyUsagesExtension(KeyUsageFlags.keyCertSign, true)] });
    const below = await issue(fake, 'below-not-a-ca');
    const result = await verify(forge(below, [below, fake, root]));
    expect(result.reason).toMatch(/^integrity: certificate 1 .*CN=not-a-ca" is a CA in the chain but lacks a critical basicConstraints with cA=true/);
    await expect(signNotation({ descriptor: target, key: below.keyPem, certChain: [below.pem, fake.pem, root.pem] })).rejects.toThrow(/lacks a critical basicConstraints with cA=true/);
  });

  it('fails integrity for a chain with a stray self-signed certificate before the root', async () => {
    const stray = await makeRoot('stray');
    const result = await verify(forge(leaf, [leaf, stray, int, root]));
    expect(result.reason).toMatch(/^integrity: .*certificate 0 .*CN=notation-leaf" is not signed by the next certificate .*CN=stray"/);
  });
});

describe('trusted identities match the DER subject, not a printed form', () => {
  it('matches a value holding an escaped comma, and refuses a subject that repeats an attribute', async () => {
    const comma = await issue(int, 'comma', { subject: 'C=US, ST=WA, O=acme\\, inc, CN=comma' });
    const sig = await signNotation({ descriptor: target, key: comma.keyPem, certChain: [comma.pem, int.pem, root.pem] });
    const policy = (identity: string) => strictPolicy([`x509.subject: ${identity}`]);
    const check = (bytes: Uint8Array, identity: string) => verifyNotation({ envelope: bytes, target, trustPolicy: policy(identity), trustStores: { 'ca:test': root.pem }, artifactReference: reference });
    expect((await check(sig.bytes, 'C=US, ST=WA, O=acme\\, inc')).ok).toBe(true);
    expect((await check(sig.bytes, 'C=US, ST=WA, O=acme')).ok).toBe(false);

    const twice = await issue(int, 'twice', { subject: 'C=US, ST=WA, O=acme, O=evil, CN=twice' });
    const sig2 = await signNotation({ descriptor: target, key: twice.keyPem, certChain: [twice.pem, int.pem, root.pem] });
    expect((await check(sig2.bytes, 'C=US, ST=WA, O=evil')).reason).toMatch(/^authenticity: signing certificate subject .*CN=twice" repeats O, so it cannot match an x509.subject identity/);
  });
});

describe('certificate validity: at the signing time (integrity) and now, with no authentic timestamp (authenticTimestamp)', () => {
  it('refuses to sign with an expired leaf; one signed while valid fails authenticTimestamp now, and only logs it when permissive', async () => {
    const expired = await issue(int, 'expired', { notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY) });
    const chain = [expired.pem, int.pem, root.pem];
    let error: unknown;
    try {
      await signNotation({ descriptor: target, key: expired.keyPem, certChain: chain });
    } catch (err) {
      error = err;
    }
    expect(hasCode(error, 'NOTATION_CERT_INVALID')).toBe(true);
    expect((error as Error).message).toMatch(/CN=expired" is expired at the signing time/);

    const thenSigned = await signNotation({ descriptor: target, key: expired.keyPem, certChain: chain, signingTime: new Date(Date.now() - 5 * DAY) });
    const result = await verify(thenSigned.bytes);
    expect(result.checks.map((c) => [c.name, c.ok])).toEqual([['integrity', true], ['authenticity', true], ['authenticTimestamp', false]]);
    expect(result.reason).toMatch(/^authenticTimestamp: certificate .*CN=expired" is expired now \(.*\), with no authentic timestamp/);
    const permissive = await verify(thenSigned.bytes, 'permissive');
    expect(permissive.ok).toBe(true);
    expect(permissive.checks.find((c) => c.name === 'authenticTimestamp')).toMatchObject({ ok: false, action: 'log' });
  });

  it('refuses a not-yet-valid leaf: at signing, in integrity for a signing time before notBefore, and now', async () => {
    const future = await issue(int, 'future', { notBefore: new Date(Date.now() + DAY) });
    await expect(signNotation({ descriptor: target, key: future.keyPem, certChain: [future.pem, int.pem, root.pem] })).rejects.toThrow(/CN=future" is not yet valid at the signing time/);
    const claimsNow = await verify(forge(future, [future, int, root]));
    expect(claimsNow.reason).toMatch(/^integrity: certificate .*CN=future" is not yet valid at the signing time /);
    const claimsLater = await verify(forge(future, [future, int, root], {}, { signingTime: new Date(Date.now() + 2 * DAY) }));
    expect(claimsLater.reason).toMatch(/^authenticTimestamp: certificate .*CN=future" is not yet valid now/);
  });
});

describe('JWS algorithm confusion', () => {
  it('refuses alg none, with or without a signature', async () => {
    const none = JSON.parse(forge(leaf, [leaf, int, root], { alg: 'none' })) as Record<string, string>;
    expect((await verify(JSON.stringify(none))).reason).toMatch(/^integrity: the Notation envelope: protected header alg "none" is not one of PS256, PS384, PS512, ES256, ES384, ES512/);
    expect((await verify(JSON.stringify({ ...none, signature: '' }))).reason).toMatch(/^integrity: the Notation envelope: signature must be a base64url string/);
  });

  it('refuses HS256 keyed with the public key, the classic RS/HS confusion', async () => {
    const forged = JSON.parse(forge(leaf, [leaf, int, root], { alg: 'HS256' })) as Record<string, string>;
    const secret = leaf.cert.publicKey.toString('pem');
    forged.signature = createHmac('sha256', secret).update(`${forged.protected}.${forged.payload}`).digest('base64url');
    expect((await verify(JSON.stringify(forged))).reason).toMatch(/^integrity: .*protected header alg "HS256" is not one of/);
  });

  it('refuses an alg that does not match the leaf key, even when the signature verifies under it', async () => {
    const es384 = await verify(forge(leaf, [leaf, int, root], { alg: 'ES384' }, { hash: 'sha384' }));
    expect(es384.reason).toBe("integrity: alg ES384 does not match the signing certificate's key, which requires ES256");
    const ps256 = await verify(forge(leaf, [leaf, int, root], { alg: 'PS256' }));
    expect(ps256.reason).toBe("integrity: alg PS256 does not match the signing certificate's key, which requires ES256");
  });

  it('refuses an unprotected header that repeats a protected one (jose: the two must be disjoint)', async () => {
    const forged = JSON.parse(forge(leaf, [leaf, int, root])) as { header: Record<string, unknown> };
    forged.header['io.cncf.notary.signingTime'] = '2000-01-01T00:00:00Z';
    expect((await verify(JSON.stringify(forged))).reason).toMatch(/^integrity: the JWS is refused: .*disjoint/);
  });

  it('refuses the b64 extension listed as critical (an unencoded payload)', async () => {
    const result = await verify(forge(leaf, [leaf, int, root], { b64: false, crit: ['io.cncf.notary.signingScheme', 'b64'] }));
    expect(result.reason).toMatch(/^integrity: .*critical header b64 is not understood/);
  });
});
