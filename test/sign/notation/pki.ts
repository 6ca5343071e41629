/** Test PKI made with the real `openssl` binary: CAs and code-signing leaves as Notation requires them. */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { vectorPath } from '../../helpers/vectors.js';

const run = promisify(execFile);
export const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
export const notationInterop = vectorPath('notation');

export type KeySpec = 'P-256' | 'P-384' | 'RSA-2048';

export interface Issued {
  keyPem: string;
  certPem: string;
  keyPath: string;
  certPath: string;
}

export async function openssl(args: string[], cwd?: string): Promise<string> {
  return (await run('openssl', args, cwd ? { cwd } : {})).stdout;
}

async function genKey(dir: string, name: string, spec: KeySpec): Promise<string> {
  const path = join(dir, `${name}.key`);
  const opts = spec === 'RSA-2048' ? ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'] : ['-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${spec}`];
  await openssl(['genpkey', ...opts, '-out', path]);
  return path;
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'notation-test-'));
}

/** A root CA with critical basicConstraints cA=true and critical keyUsage keyCertSign. */
export async function makeCa(dir: string, name: string, subject = `/C=US/ST=WA/O=${name}/CN=${name} Root`, spec: KeySpec = 'P-256'): Promise<Issued> {
  const keyPath = await genKey(dir, name, spec);
  const certPath = join(dir, `${name}.pem`);
  await openssl([
    'req', '-x509', '-new', '-key', keyPath, '-out', certPath, '-days', '30', '-subj', subject,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { keyPath, certPath, keyPem: await readFile(keyPath, 'utf8'), certPem: await readFile(certPath, 'utf8') };
}

export interface LeafOptions {
  subject?: string;
  spec?: KeySpec;
  /** Extension lines for the leaf; defaults to what Notation requires. */
  extensions?: string[];
  days?: number;
}

export const CODE_SIGNING_EXTENSIONS = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=codeSigning'];

/** A leaf issued by `ca` with the code-signing EKU and digitalSignature key usage. */
export async function makeLeaf(dir: string, name: string, ca: Issued, options: LeafOptions = {}): Promise<Issued> {
  const keyPath = await genKey(dir, name, options.spec ?? 'P-256');
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  const certPath = join(dir, `${name}.pem`);
  await openssl(['req', '-new', '-key', keyPath, '-out', csr, '-subj', options.subject ?? `/C=US/ST=WA/L=Seattle/O=modelship-test/CN=${name}`]);
  await writeFile(ext, (options.extensions ?? CODE_SIGNING_EXTENSIONS).join('\n') + '\n');
  await openssl(['x509', '-req', '-in', csr, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-CAcreateserial', '-out', certPath, '-days', String(options.days ?? 10), '-extfile', ext]);
  return { keyPath, certPath, keyPem: await readFile(keyPath, 'utf8'), certPem: await readFile(certPath, 'utf8') };
}

/** SHA-256 of a PEM certificate's DER, computed by openssl itself. */
export async function opensslThumbprint(certPath: string, dir: string): Promise<string> {
  const der = join(dir, `thumb-${Math.random().toString(16).slice(2)}.der`);
  await openssl(['x509', '-in', certPath, '-outform', 'DER', '-out', der]);
  return (await openssl(['dgst', '-sha256', '-r', der])).split(' ')[0]!.trim();
}

export function strictPolicy(trustedIdentities: string[] = ['*'], level = 'strict', registryScopes: string[] = ['*']): string {
  return JSON.stringify({
    version: '1.0',
    trustPolicies: [{ name: 'models', registryScopes, signatureVerification: { level }, trustStores: ['ca:test'], trustedIdentities }],
  });
}
