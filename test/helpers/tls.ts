/**
 * Test certificates made with the real `openssl` binary: a CA, and leaf certificates it signs
 * (server certificates for 127.0.0.1, or token-signing certificates).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Pem {
  certPem: string;
  keyPem: string;
}

export interface TestCa extends Pem {
  /** A leaf certificate signed by this CA. */
  issue(options: { commonName: string; ipSans?: string[]; dnsSans?: string[]; keyType?: 'ec' | 'rsa' }): Promise<Pem>;
}

async function inTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'modelship-tls-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function newKey(dir: string, name: string, keyType: 'ec' | 'rsa'): Promise<string> {
  const path = join(dir, `${name}.key`);
  if (keyType === 'ec') await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
  else await run('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', path]);
  return path;
}

export async function createCa(commonName = 'modelship test CA'): Promise<TestCa> {
  const ca = await inTempDir(async (dir) => {
    const key = await newKey(dir, 'ca', 'ec');
    const cert = join(dir, 'ca.pem');
    await run('openssl', [
      'req', '-x509', '-new', '-key', key, '-out', cert, '-days', '2', '-subj', `/CN=${commonName}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ]);
    return { certPem: await readFile(cert, 'utf8'), keyPem: await readFile(key, 'utf8') };
  });
  return {
    ...ca,
    issue: (options) =>
      inTempDir(async (dir) => {
        await writeFile(join(dir, 'ca.pem'), ca.certPem);
        await writeFile(join(dir, 'ca.key'), ca.keyPem);
        const key = await newKey(dir, 'leaf', options.keyType ?? 'ec');
        const csr = join(dir, 'leaf.csr');
        await run('openssl', ['req', '-new', '-key', key, '-out', csr, '-subj', `/CN=${options.commonName}`]);
        const sans = [...(options.ipSans ?? []).map((ip) => `IP:${ip}`), ...(options.dnsSans ?? []).map((d) => `DNS:${d}`)];
        const ext = join(dir, 'leaf.ext');
        await writeFile(ext, ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', ...(sans.length ? [`subjectAltName=${sans.join(',')}`, 'extendedKeyUsage=serverAuth'] : [])].join('\n') + '\n');
        const cert = join(dir, 'leaf.pem');
        await run('openssl', ['x509', '-req', '-in', csr, '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]);
        return { certPem: await readFile(cert, 'utf8'), keyPem: await readFile(key, 'utf8') };
      }),
  };
}

/** A PEM certificate's DER bytes, base64 (the form a JWT `x5c` header carries). */
export function pemToBase64Der(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}
