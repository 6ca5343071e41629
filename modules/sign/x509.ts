/**
 * X.509 certificates read with @peculiar/x509 (extensions, names, validity) and checked with
 * node:crypto (signatures, public keys): the fields the Notation and OMS chain rules look at.
 */
import { createRequire } from 'node:module';
import { X509Certificate } from 'node:crypto';
import type * as Peculiar from '@peculiar/x509';
import { ModelshipError } from '../errors/index.js';

let library: typeof Peculiar | undefined;

/**
 * @peculiar/x509 loads every ASN.1 schema it knows (CMS, CSR, PKCS#9...), several times the import
 * cost of @sigstore/verify: load it on the first certificate, not with every command that signs.
 */
function peculiar(): typeof Peculiar {
  if (!library) {
    const require = createRequire(import.meta.url);
    // It resolves its parsers through tsyringe, which needs the Reflect metadata API first.
    require('reflect-metadata');
    library = require('@peculiar/x509') as typeof Peculiar;
  }
  return library;
}

/** A distinguished name parsed by @peculiar/x509, with extra attribute short names. */
export function parseName(der: Buffer, extraNames: Record<string, string>): Peculiar.Name {
  return new (peculiar().Name)(der, extraNames);
}

export const KEY_USAGES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const satisfies readonly (keyof typeof Peculiar.KeyUsageFlags)[];
export type KeyUsage = (typeof KEY_USAGES)[number];

export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extendedKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  crlDistributionPoints: '2.5.29.31',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  ocsp: '1.3.6.1.5.5.7.48.1',
  ekuAny: '2.5.29.37.0',
  ekuServerAuth: '1.3.6.1.5.5.7.3.1',
  ekuClientAuth: '1.3.6.1.5.5.7.3.2',
  ekuCodeSigning: '1.3.6.1.5.5.7.3.3',
  ekuEmailProtection: '1.3.6.1.5.5.7.3.4',
  ekuTimeStamping: '1.3.6.1.5.5.7.3.8',
  ekuOcspSigning: '1.3.6.1.5.5.7.3.9',
} as const;

/** What the chain rules read from one certificate. */
export interface CertificateProfile {
  /** node:crypto's view of the same DER: public key and signature checks. */
  cert: X509Certificate;
  subjectDer: Buffer;
  issuerDer: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** The hash of the certificate's own signature algorithm (`SHA-256`, `SHA-1`...). */
  signatureHash: string;
  basicConstraints?: { critical: boolean; ca: boolean; pathLength?: number };
  keyUsage?: { critical: boolean; usages: Set<KeyUsage> };
  extendedKeyUsage?: { critical: boolean; oids: string[] };
  /** OIDs of every critical extension, in certificate order. */
  criticalExtensions: string[];
  /** The certificate names a CRL distribution point or an OCSP responder. */
  revocationInfo: boolean;
}

const profiles = new WeakMap<X509Certificate, CertificateProfile>();

/** Parse a certificate's extensions and names once; `where` names it in the error. */
export function certificateProfile(cert: X509Certificate, where: string, code = 'NOTATION_CERT_INVALID'): CertificateProfile {
  const cached = profiles.get(cert);
  if (cached) return cached;
  let profile: CertificateProfile;
  try {
    profile = readProfile(cert);
  } catch (err) {
    throw new ModelshipError(code, `${where} is not a well-formed X.509 certificate (${(err as Error).message}); re-export it as DER or PEM`, { cause: err });
  }
  profiles.set(cert, profile);
  return profile;
}

function readProfile(cert: X509Certificate): CertificateProfile {
  const { X509Certificate: ParsedCertificate, BasicConstraintsExtension, KeyUsagesExtension, ExtendedKeyUsageExtension, AuthorityInfoAccessExtension, KeyUsageFlags } = peculiar();
  const parsed = new ParsedCertificate(cert.raw);
  const seen = new Set<string>();
  for (const ext of parsed.extensions) {
    // RFC 5280 4.2: an extension appears at most once; two keyUsage entries are a classic confusion.
    if (seen.has(ext.type)) throw new Error(`extension ${ext.type} appears twice`);
    seen.add(ext.type);
  }
  const bc = parsed.getExtension(BasicConstraintsExtension);
  const ku = parsed.getExtension(KeyUsagesExtension);
  const eku = parsed.getExtension(ExtendedKeyUsageExtension);
  // Guard: a known OID must have decoded to its typed extension (a malformed value already threw above).
  for (const [oid, typed] of [[OID.basicConstraints, bc], [OID.keyUsage, ku], [OID.extendedKeyUsage, eku]] as const) {
    if (seen.has(oid) && !typed) throw new Error(`extension ${oid} cannot be decoded`);
  }
  const aia = parsed.getExtension(AuthorityInfoAccessExtension);
  return {
    cert,
    subjectDer: Buffer.from(parsed.subjectName.toArrayBuffer()),
    issuerDer: Buffer.from(parsed.issuerName.toArrayBuffer()),
    notBefore: parsed.notBefore,
    notAfter: parsed.notAfter,
    signatureHash: (parsed.signatureAlgorithm as { hash?: { name?: string } }).hash?.name ?? 'unknown',
    ...(bc ? { basicConstraints: { critical: bc.critical, ca: bc.ca, ...(bc.pathLength !== undefined ? { pathLength: bc.pathLength } : {}) } } : {}),
    ...(ku ? { keyUsage: { critical: ku.critical, usages: new Set(KEY_USAGES.filter((name) => ku.usages & KeyUsageFlags[name])) } } : {}),
    ...(eku ? { extendedKeyUsage: { critical: eku.critical, oids: eku.usages.map(String) } } : {}),
    criticalExtensions: parsed.extensions.filter((e) => e.critical).map((e) => e.type),
    revocationInfo: seen.has(OID.crlDistributionPoints) || (aia?.ocsp.length ?? 0) > 0,
  };
}

/** `cert` names `issuer` as its issuer (exact DER name) and carries its signature. */
export function isIssuedBy(cert: CertificateProfile, issuer: CertificateProfile): boolean {
  return cert.issuerDer.equals(issuer.subjectDer) && cert.cert.verify(issuer.cert.publicKey);
}

export function isSelfSigned(cert: CertificateProfile): boolean {
  return isIssuedBy(cert, cert);
}

export function isValidAt(cert: CertificateProfile, at: Date): boolean {
  return at.getTime() >= cert.notBefore.getTime() && at.getTime() <= cert.notAfter.getTime();
}

/** The subject on one line, quoted, for messages. */
export function describeCertificate(cert: X509Certificate): string {
  return `"${cert.subject.replace(/\n/g, ', ')}"`;
}
