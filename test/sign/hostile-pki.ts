/**
 * Certificates a careless verifier accepts, built from real P-256 key pairs with @peculiar/x509:
 * any extension, criticality and validity window can be set, which `openssl req`/`x509` make awkward.
 */
import 'reflect-metadata';
import {
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  Extension,
  KeyUsageFlags,
  KeyUsagesExtension,
  X509CertificateGenerator,
  cryptoProvider,
  type X509Certificate,
} from '@peculiar/x509';
import { execFile } from 'node:child_process';
import { KeyObject, webcrypto } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

cryptoProvider.set(webcrypto as never);

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

export interface TestCert {
  cert: X509Certificate;
  pem: string;
  der: Buffer;
  keyPem: string;
  keys: webcrypto.CryptoKeyPair;
}

export interface CertOptions {
  extensions?: Extension[];
  notBefore?: Date;
  notAfter?: Date;
  /** RFC 4514 subject; `C=US, ST=WA, O=hostile, CN=<name>` by default. */
  subject?: string;
}

/** An extension OID no verifier knows (a private enterprise arc), value DER NULL. */
export const UNKNOWN_CRITICAL = (): Extension => new Extension('1.3.6.1.4.1.99999.1.1', true, new Uint8Array([0x05, 0x00]));

export const caExtensions = (): Extension[] => [
  new BasicConstraintsExtension(true, undefined, true),
  new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
];

export const codeSigningExtensions = (): Extension[] => [
  new BasicConstraintsExtension(false, undefined, false),
  new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
  new ExtendedKeyUsageExtension([ExtendedKeyUsage.codeSigning], false),
];

async function wrap(cert: X509Certificate, keys: webcrypto.CryptoKeyPair): Promise<TestCert> {
  const der = Buffer.from(cert.rawData);
  const keyPem = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { cert, pem: cert.toString('pem') + '\n', der, keyPem, keys };
}

function window(options: CertOptions): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: options.notBefore ?? new Date(now - DAY), notAfter: options.notAfter ?? new Date(now + 30 * DAY) };
}

export async function makeRoot(name: string, options: CertOptions = {}): Promise<TestCert> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await X509CertificateGenerator.createSelfSigned({
    name: `C=US, ST=WA, O=hostile, CN=${name}`,
    keys,
    signingAlgorithm: EC,
    extensions: options.extensions ?? caExtensions(),
    ...window(options),
  });
  return wrap(cert, keys);
}

export async function issue(issuer: TestCert, name: string, options: CertOptions = {}): Promise<TestCert> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await X509CertificateGenerator.create({
    subject: options.subject ?? `C=US, ST=WA, O=hostile, CN=${name}`,
    issuer: issuer.cert.subjectName,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: EC,
    extensions: options.extensions ?? codeSigningExtensions(),
    ...window(options),
  });
  return wrap(cert, keys);
}

/** What `openssl verify` (the library model_signing verifies with) says about leaf <- untrusted... <- root at `at`. */
export async function opensslVerify(leaf: TestCert, untrusted: TestCert[], root: TestCert, at: Date): Promise<{ ok: boolean; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'hostile-pki-'));
  await writeFile(join(dir, 'leaf.pem'), leaf.pem);
  await writeFile(join(dir, 'root.pem'), root.pem);
  const args = ['verify', '-attime', String(Math.floor(at.getTime() / 1000)), '-CAfile', join(dir, 'root.pem')];
  if (untrusted.length) {
    await writeFile(join(dir, 'untrusted.pem'), untrusted.map((c) => c.pem).join(''));
    args.push('-untrusted', join(dir, 'untrusted.pem'));
  }
  try {
    const { stdout, stderr } = await promisify(execFile)('openssl', [...args, join(dir, 'leaf.pem')]);
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

export { DAY, Extension, BasicConstraintsExtension, ExtendedKeyUsage, ExtendedKeyUsageExtension, KeyUsageFlags, KeyUsagesExtension };
