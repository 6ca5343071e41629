import { describe, expect, it } from 'vitest';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { execa } from 'execa';
import {
  generateSigningKeyPair,
  loadPrivateKey,
  loadPublicKey,
  signModelFolder,
  verifyModelFolder,
  type Curve,
  type VerificationPolicy,
} from '../../modules/sign/index.js';
import { makeModel } from './helpers.js';

async function keySigned(curve: Curve = 'p256') {
  const dir = await makeModel();
  const pair = generateSigningKeyPair(curve);
  const signed = await signModelFolder(dir, { signing: { kind: 'key', privateKey: loadPrivateKey(pair.privateKeyPem, 'test.key') } });
  const policy: VerificationPolicy = { kind: 'key', publicKey: loadPublicKey(pair.publicKeyPem, 'test.pub') };
  return { dir, pair, signed, policy };
}

describe('key signing round trips', () => {
  for (const curve of ['p256', 'p384', 'p521'] as const) {
    it(`signs and verifies with ${curve}`, async () => {
      const { dir, signed, policy } = await keySigned(curve);
      const result = await verifyModelFolder(dir, signed.bundlePath, policy);
      expect(result.reason).toBeUndefined();
      expect(result.ok).toBe(true);
      expect(signed.bundle.verificationMaterial).toEqual({ publicKey: { hint: expect.stringMatching(/^[0-9a-f]{64}$/) }, tlogEntries: [] });
      expect(signed.bundle.dsseEnvelope.signatures).toEqual([{ sig: expect.any(String), keyid: '' }]);
    });
  }

  it('signs with an encrypted key and refuses the wrong password without echoing it', async () => {
    const dir = await makeModel();
    const pair = generateSigningKeyPair('p256', 'correct horse');
    expect(pair.privateKeyPem).toContain('BEGIN ENCRYPTED PRIVATE KEY');
    expect(() => loadPrivateKey(pair.privateKeyPem, 'enc.key')).toThrow(/encrypted; set MODELSHIP_KEY_PASSWORD/);
    let message = '';
    try {
      loadPrivateKey(pair.privateKeyPem, 'enc.key', 'battery staple');
    } catch (e) {
      message = (e as Error).message + String((e as Error).cause ?? '');
    }
    expect(message).toMatch(/wrong password/);
    expect(message).not.toContain('battery staple');
    const key = loadPrivateKey(pair.privateKeyPem, 'enc.key', 'correct horse');
    const signed = await signModelFolder(dir, { signing: { kind: 'key', privateKey: key } });
    expect((await verifyModelFolder(dir, signed.bundlePath, { kind: 'key', publicKey: loadPublicKey(pair.publicKeyPem, 'p') })).ok).toBe(true);
  });
});

describe('tampering is caught with a specific reason', () => {
  it('a changed byte in one file', async () => {
    const { dir, signed, policy } = await keySigned();
    const bin = join(dir, 'weights', 'model.bin');
    const bytes = await readFile(bin);
    bytes[100] = bytes[100]! ^ 1;
    await writeFile(bin, bytes);
    const result = await verifyModelFolder(dir, signed.bundlePath, policy);
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/^weights\/model.bin has changed/);
    expect(result.checks.at(-1)).toMatchObject({ name: 'files', ok: false });
  });

  it('an added file', async () => {
    const { dir, signed, policy } = await keySigned();
    await writeFile(join(dir, 'extra.txt'), 'x');
    expect((await verifyModelFolder(dir, signed.bundlePath, policy)).reason).toMatch(/^extra.txt is not in the signature/);
  });

  it('a removed file', async () => {
    const { dir, signed, policy } = await keySigned();
    await rm(join(dir, 'README.md'));
    expect((await verifyModelFolder(dir, signed.bundlePath, policy)).reason).toMatch(/^README.md is in the signature but missing/);
  });

  it('a signature by another key', async () => {
    const { dir, signed } = await keySigned();
    const other = generateSigningKeyPair('p256');
    const result = await verifyModelFolder(dir, signed.bundlePath, { kind: 'key', publicKey: loadPublicKey(other.publicKeyPem, 'other.pub') });
    expect(result.reason).toMatch(/signed by another key/);
  });

  it('a bundle whose payload was edited after signing', async () => {
    const { dir, signed, policy } = await keySigned();
    const bundle = JSON.parse(await readFile(signed.bundlePath, 'utf8'));
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
    statement.predicate.resources.pop();
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    await writeFile(signed.bundlePath, JSON.stringify(bundle));
    const result = await verifyModelFolder(dir, signed.bundlePath, policy);
    expect(result.checks.at(-1)).toMatchObject({ name: 'signature', ok: false });
    expect(result.reason).toMatch(/changed after signing/);
  });

  it('a bundle whose signature was edited', async () => {
    const { dir, signed, policy } = await keySigned();
    const bundle = JSON.parse(await readFile(signed.bundlePath, 'utf8'));
    const sig = Buffer.from(bundle.dsseEnvelope.signatures[0].sig, 'base64');
    sig[sig.length - 1] = sig[sig.length - 1]! ^ 0xff;
    bundle.dsseEnvelope.signatures[0].sig = sig.toString('base64');
    await writeFile(signed.bundlePath, JSON.stringify(bundle));
    expect((await verifyModelFolder(dir, signed.bundlePath, policy)).reason).toMatch(/does not verify/);
  });

  it('a truncated bundle', async () => {
    const { dir, signed, policy } = await keySigned();
    await appendFile(signed.bundlePath, '{');
    const result = await verifyModelFolder(dir, signed.bundlePath, policy);
    expect(result.checks[0]).toMatchObject({ name: 'bundle', ok: false });
    expect(result.reason).toMatch(/not JSON/);
  });
});

describe('independent check of our model.sig, written from the DSSE and OMS specs', () => {
  it('verifies the ECDSA signature over PAE and recomputes every digest by hand', async () => {
    const { dir, pair, signed } = await keySigned('p256');
    const bundle = JSON.parse(await readFile(join(dir, 'model.sig'), 'utf8'));
    expect(signed.bundlePath).toBe(join(dir, 'model.sig'));
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    const env = bundle.dsseEnvelope;
    expect(env.payloadType).toBe('application/vnd.in-toto+json');
    const payload = Buffer.from(env.payload, 'base64');
    // DSSE v1: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
    const pae = Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(env.payloadType)} ${env.payloadType} ${payload.length} `), payload]);
    const pub = createPublicKey(pair.publicKeyPem);
    expect(cryptoVerify('sha256', pae, pub, Buffer.from(env.signatures[0].sig, 'base64'))).toBe(true);
    expect(bundle.verificationMaterial.publicKey.hint).toBe(createHash('sha256').update(pub.export({ type: 'spki', format: 'pem' })).digest('hex'));

    const statement = JSON.parse(payload.toString('utf8'));
    expect(statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(statement.predicateType).toBe('https://model_signing/signature/v1.0');
    expect(statement.subject[0].name).toBe('tiny-model');
    const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
    const expected = [
      { name: 'README.md', digest: sha(await readFile(join(dir, 'README.md'))) },
      { name: 'config.json', digest: sha(await readFile(join(dir, 'config.json'))) },
      { name: 'weights/model.bin', digest: sha(await readFile(join(dir, 'weights', 'model.bin'))) },
    ];
    expect(statement.predicate.resources).toEqual(expected.map((e) => ({ name: e.name, algorithm: 'sha256', digest: e.digest })));
    expect(statement.subject[0].digest.sha256).toBe(sha(Buffer.concat(expected.map((e) => Buffer.from(e.digest, 'hex')))));
    expect(statement.predicate.serialization).toMatchObject({ method: 'files', hash_type: 'sha256', allow_symlinks: false });
  });
});

describe('certificate signing with a chain made by openssl', () => {
  it('signs with leaf + intermediate and verifies against the root; fails against another root', async () => {
    const work = await mkdtemp(join(tmpdir(), 'sign-pki-'));
    const sh = (cmd: string) => execa('bash', ['-c', cmd], { cwd: work });
    await sh(`
      set -e
      openssl ecparam -name prime256v1 -genkey -noout -out root.key
      openssl req -x509 -new -key root.key -subj /CN=test-root -days 2 -out root.pem \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
      openssl ecparam -name prime256v1 -genkey -noout -out int.key
      openssl req -new -key int.key -subj /CN=test-int -out int.csr
      printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign\\n' > ca.ext
      openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 2 -extfile ca.ext -out int.pem
      openssl ecparam -name secp384r1 -genkey -noout -out leaf.ec
      openssl pkcs8 -topk8 -nocrypt -in leaf.ec -out leaf.key
      openssl req -new -key leaf.key -subj /CN=model-signer -out leaf.csr
      printf 'keyUsage=critical,digitalSignature\\nextendedKeyUsage=codeSigning\\n' > leaf.ext
      openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -CAcreateserial -days 2 -extfile leaf.ext -out leaf.pem
      openssl ecparam -name prime256v1 -genkey -noout -out other.key
      openssl req -x509 -new -key other.key -subj /CN=other-root -days 2 -out other.pem
    `);
    const read = (f: string) => readFile(join(work, f), 'utf8');
    const dir = await makeModel();
    const signed = await signModelFolder(dir, {
      signing: { kind: 'certificate', privateKey: loadPrivateKey(await read('leaf.key'), 'leaf.key'), certificatePem: await read('leaf.pem'), chainPem: await read('int.pem') },
    });
    expect(signed.bundle.verificationMaterial.x509CertificateChain?.certificates).toHaveLength(2);
    const ok = await verifyModelFolder(dir, signed.bundlePath, { kind: 'certificate', trustAnchorsPem: [await read('root.pem')] });
    expect(ok.reason).toBeUndefined();
    expect(ok.checks.find((c) => c.name === 'certificate-chain')?.detail).toMatch(/model-signer <- CN=test-int <- CN=test-root/);
    const bad = await verifyModelFolder(dir, signed.bundlePath, { kind: 'certificate', trustAnchorsPem: [await read('other.pem')] });
    expect(bad.reason).toMatch(/does not lead to a trusted CA/);
    // Judged at the leaf's notBefore as model_signing does; an explicit time past expiry fails.
    const expired = await verifyModelFolder(dir, signed.bundlePath, { kind: 'certificate', trustAnchorsPem: [await read('root.pem')], validAt: new Date(Date.now() + 5 * 86400_000) });
    expect(expired.reason).toMatch(/certificate "CN=model-signer" is expired at /);
    await expect(
      signModelFolder(dir, { signing: { kind: 'certificate', privateKey: loadPrivateKey(await read('other.key'), 'other.key'), certificatePem: await read('leaf.pem') } }),
    ).rejects.toThrow(/does not belong to the certificate/);
  });
});
