import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  compareResources,
  hashModelFolder,
  loadPublicKey,
  verifyBundle,
  verifyModelFolder,
  type VerificationPolicy,
} from '../../modules/sign/index.js';
import { interop, omsInterop } from './helpers.js';

const keyPolicy = async (): Promise<VerificationPolicy> => ({
  kind: 'key',
  publicKey: loadPublicKey(await readFile(join(omsInterop, 'keys', 'signing-key-pub.pem'), 'utf8'), 'signing-key-pub.pem'),
});
const caPolicy = async (): Promise<VerificationPolicy> => ({
  kind: 'certificate',
  trustAnchorsPem: [await readFile(join(omsInterop, 'keys', 'ca-cert.pem'), 'utf8')],
});
const keylessPolicy = async (identity: RegExp, issuer = 'https://sigstore.verify.ibm.com/oauth2'): Promise<VerificationPolicy> => ({
  kind: 'keyless',
  identity,
  issuer,
  trustedRoot: JSON.parse(await readFile(join(interop, 'sigstore', 'public-good-trusted_root.json'), 'utf8')),
});

describe('bundles from the reference model_signing implementation', () => {
  it('v1.1.0 key bundle (P-384, hint over the canonical PEM) verifies with its files', async () => {
    const dir = join(omsInterop, 'v1.1.0-elliptic-key');
    const result = await verifyModelFolder(dir, join(dir, 'model.sig'), await keyPolicy());
    expect(result.reason).toBeUndefined();
    expect(result.checks.map((c) => c.name)).toEqual(['bundle', 'payload-type', 'key', 'signature', 'statement', 'predicate', 'subject-digest', 'files']);
  });

  it('v1.0.1 key bundle (raw PEM key, no ignore_paths) verifies when ignore-me is left out as the reference was told', async () => {
    const dir = join(omsInterop, 'v1.0.1-elliptic-key');
    const result = await verifyModelFolder(dir, join(dir, 'model.sig'), await keyPolicy(), { ignorePaths: ['ignore-me'] });
    expect(result.ok).toBe(true);
    const strict = await verifyModelFolder(dir, join(dir, 'model.sig'), await keyPolicy());
    expect(strict.reason).toMatch(/^ignore-me is not in the signature/);
  });

  it('v1.0.0 single-file bundle (resource ".") verifies', async () => {
    const dir = join(omsInterop, 'v1.0.0-elliptic-key');
    const result = await verifyModelFolder(join(dir, 'signme-1'), join(dir, 'model.sig'), await keyPolicy());
    expect(result.ok).toBe(true);
  });

  it('v1.1.0 certificate bundle chains to the test CA through int-ca', async () => {
    const dir = join(omsInterop, 'v1.1.0-certificate');
    const result = await verifyModelFolder(dir, join(dir, 'model.sig'), await caPolicy());
    expect(result.reason).toBeUndefined();
    expect(result.checks.find((c) => c.name === 'certificate-chain')?.detail).toMatch(/root-ca/);
  });

  it('a certificate bundle fails against an unrelated CA and passes when its own leaf is pinned', async () => {
    const dir = join(omsInterop, 'v1.1.0-certificate');
    const other: VerificationPolicy = { kind: 'certificate', trustAnchorsPem: [await readFile(join(omsInterop, 'keys', 'signing-key-cert.pem'), 'utf8')] };
    // The leaf is trusted only as itself; an unrelated self-signed root must not be accepted.
    const tm = JSON.parse(await readFile(join(interop, 'sigstore', 'public-good-trusted_root.json'), 'utf8')) as { certificateAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[] };
    const fulcioRoot = `-----BEGIN CERTIFICATE-----\n${tm.certificateAuthorities[0]!.certChain.certificates.at(-1)!.rawBytes}\n-----END CERTIFICATE-----\n`;
    const unrelated = await verifyModelFolder(dir, join(dir, 'model.sig'), { kind: 'certificate', trustAnchorsPem: [fulcioRoot] });
    expect(unrelated.ok).toBe(false);
    expect(unrelated.reason).toMatch(/does not lead to a trusted CA/);
    expect((await verifyModelFolder(dir, join(dir, 'model.sig'), other)).ok).toBe(true);
  });

  it('v1.1.0 keyless bundle verifies offline against the public-good trusted root and its identity', async () => {
    const dir = join(omsInterop, 'v1.1.0-sigstore');
    const result = await verifyModelFolder(dir, join(dir, 'model.sig'), await keylessPolicy(/stefanb@us\.ibm\.com/));
    expect(result.reason).toBeUndefined();
    expect(result.checks.find((c) => c.name === 'identity')?.detail).toContain('stefanb@us.ibm.com');
  });

  it('keyless: an identity or issuer that does not match fails with that reason', async () => {
    const dir = join(omsInterop, 'v1.1.0-sigstore');
    const wrong = await verifyModelFolder(dir, join(dir, 'model.sig'), await keylessPolicy(/someone@example\.com/));
    expect(wrong.ok).toBe(false);
    expect(wrong.reason).toMatch(/identity "stefanb@us.ibm.com" does not match/);
    const partial = await verifyModelFolder(dir, join(dir, 'model.sig'), await keylessPolicy(/stefanb/));
    expect(partial.reason).toMatch(/does not match/);
    const issuer = await verifyModelFolder(dir, join(dir, 'model.sig'), await keylessPolicy(/stefanb@us\.ibm\.com/, 'https://accounts.google.com'));
    expect(issuer.reason).toMatch(/issuer "https:\/\/sigstore.verify.ibm.com\/oauth2" is not/);
  });

  it('keyless bundle fails against a trusted root without its CA', async () => {
    const dir = join(omsInterop, 'v1.1.0-sigstore');
    const policy = (await keylessPolicy(/stefanb@us\.ibm\.com/)) as VerificationPolicy & { trustedRoot: { certificateAuthorities: unknown[] } };
    policy.trustedRoot.certificateAuthorities = [];
    const result = await verifyModelFolder(dir, join(dir, 'model.sig'), policy);
    expect(result.ok).toBe(false);
    expect(result.checks.at(-1)?.name).toBe('sigstore');
  });

  it('v0.2 bundles are read: statement and files match, but the signature does not verify over DSSE PAE', async () => {
    const dir = join(omsInterop, 'v0.2.0-certificate');
    const bytes = await readFile(join(dir, 'model.sig'));
    const result = verifyBundle(bytes, await caPolicy());
    // Known: the v0.2 signature is not over PAE(payload) with the leaf key for any of SHA-256/384/512.
    expect(result.ok).toBe(false);
    expect(result.checks.at(-1)?.name).toBe('signature');
    const statement = JSON.parse(Buffer.from(JSON.parse(bytes.toString()).dsseEnvelope.payload, 'base64').toString()) as { subject: { name: string; digest: { sha256: string } }[] };
    const signed = statement.subject.map((s) => ({ name: s.name, algorithm: 'sha256', digest: s.digest.sha256 }));
    const onDisk = await hashModelFolder(dir);
    expect(compareResources(signed, onDisk.resources)).toBeUndefined();
  });
});
