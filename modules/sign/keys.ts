/**
 * ECDSA keys as model_signing uses them: P-256/384/521 with SHA-256/384/512, PKCS#8 PEM private
 * keys (optionally encrypted) and SPKI PEM public keys.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { ModelshipError } from '../errors/index.js';

export type Curve = 'p256' | 'p384' | 'p521';

const NAMED_CURVE: Record<Curve, string> = { p256: 'prime256v1', p384: 'secp384r1', p521: 'secp521r1' };
const HASH_BY_NAMED_CURVE: Record<string, 'sha256' | 'sha384' | 'sha512'> = {
  prime256v1: 'sha256',
  secp384r1: 'sha384',
  secp521r1: 'sha512',
};

export function parseCurve(value: string): Curve {
  const v = value.toLowerCase().replace(/-/g, '');
  if (v === 'p256' || v === 'p384' || v === 'p521') return v;
  throw new ModelshipError('USAGE', `unknown curve "${value}": use p256, p384 or p521`);
}

/** The digest ECDSA uses with this key's curve; other key types are refused. */
export function hashForKey(key: KeyObject, where: string): 'sha256' | 'sha384' | 'sha512' {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const hash = key.asymmetricKeyType === 'ec' && curve ? HASH_BY_NAMED_CURVE[curve] : undefined;
  if (!hash) {
    throw new ModelshipError('SIGN_KEY_INVALID', `${where}: only ECDSA keys on P-256, P-384 or P-521 are supported (got ${key.asymmetricKeyType ?? 'unknown'} ${curve ?? ''})`);
  }
  return hash;
}

/** Canonical SPKI PEM text: what the hint hashes, whatever decorations the key file had. */
export function publicKeyPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'pem' }).toString();
}

/** model_signing's `publicKey.hint`: hex SHA-256 of the canonical PEM SPKI text. */
export function publicKeyHint(key: KeyObject): string {
  return createHash('sha256').update(publicKeyPem(key)).digest('hex');
}

export function isEncryptedPem(pem: string): boolean {
  return pem.includes('BEGIN ENCRYPTED PRIVATE KEY') || /Proc-Type:\s*4,ENCRYPTED/.test(pem);
}

/** Load a private key; the password never appears in any message. */
export function loadPrivateKey(pem: string, where: string, password?: string): KeyObject {
  if (isEncryptedPem(pem) && password === undefined) {
    throw new ModelshipError('SIGN_KEY_PASSWORD', `${where} is encrypted; set MODELSHIP_KEY_PASSWORD or run on a terminal to be asked for the password`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(password === undefined ? { key: pem, format: 'pem' } : { key: pem, format: 'pem', passphrase: password });
  } catch (err) {
    // The cause of a crypto failure can quote key material: keep only its code.
    const code = (err as { code?: string }).code ?? 'unknown';
    const wrong = isEncryptedPem(pem) ? ' (wrong password?)' : '';
    throw new ModelshipError('SIGN_KEY_INVALID', `${where} is not a readable PEM private key${wrong} [${code}]`);
  }
  hashForKey(key, where);
  return key;
}

export function loadPublicKey(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new ModelshipError('SIGN_KEY_INVALID', `${where} is not a PEM public key or certificate`, { cause: err });
  }
  hashForKey(key, where);
  return key;
}

export interface GeneratedKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

export function generateSigningKeyPair(curve: Curve = 'p256', password?: string): GeneratedKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: NAMED_CURVE[curve] });
  const privateKeyPem = privateKey
    .export(password === undefined ? { type: 'pkcs8', format: 'pem' } : { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: password })
    .toString();
  return { privateKeyPem, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}
