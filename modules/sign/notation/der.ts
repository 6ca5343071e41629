/**
 * The few X.509 fields node:crypto does not expose (key usage bits, basic constraints, extension
 * criticality, signature algorithm), read from the certificate's DER with a minimal TLV walker.
 */
import type { X509Certificate } from 'node:crypto';
import { ModelshipError } from '../../errors/index.js';

interface Tlv {
  tag: number;
  /** Offset of the value and the offset just past it. */
  start: number;
  end: number;
}

function readTlv(der: Uint8Array, offset: number, limit: number): Tlv {
  if (offset + 2 > limit) throw new RangeError('truncated DER');
  const tag = der[offset]!;
  let length = der[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4 || start + bytes > limit) throw new RangeError('bad DER length');
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start + i]!;
    start += bytes;
  }
  const end = start + length;
  if (end > limit) throw new RangeError('DER value runs past its container');
  return { tag, start, end };
}

function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const child = readTlv(der, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

function decodeOid(der: Uint8Array, tlv: Tlv): string {
  const parts: number[] = [];
  let value = 0;
  for (let i = tlv.start; i < tlv.end; i++) {
    value = value * 128 + (der[i]! & 0x7f);
    if (!(der[i]! & 0x80)) {
      if (parts.length === 0) parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

export const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsage = (typeof KEY_USAGE_BITS)[number];

export interface CertificateFields {
  signatureAlgorithmOid: string;
  keyUsage?: { critical: boolean; usages: Set<KeyUsage> };
  basicConstraints?: { critical: boolean; ca: boolean; pathLength?: number };
  extendedKeyUsage?: { critical: boolean; oids: string[] };
  /** The certificate names a CRL distribution point or an OCSP responder. */
  revocationInfo: boolean;
}

const OID_KEY_USAGE = '2.5.29.15';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_EXT_KEY_USAGE = '2.5.29.37';
const OID_CRL_DISTRIBUTION_POINTS = '2.5.29.31';
const OID_AUTHORITY_INFO_ACCESS = '1.3.6.1.5.5.7.1.1';
const OID_OCSP = '1.3.6.1.5.5.7.48.1';

/** Parse the extensions Notation honours; `where` names the certificate for the message. */
export function certificateFields(cert: X509Certificate, where: string): CertificateFields {
  const der = new Uint8Array(cert.raw);
  try {
    const certificate = readTlv(der, 0, der.length);
    const [tbs, sigAlg] = children(der, certificate);
    if (!tbs || !sigAlg) throw new RangeError('not a certificate');
    const signatureAlgorithmOid = decodeOid(der, children(der, sigAlg)[0]!);
    const fields: CertificateFields = { signatureAlgorithmOid, revocationInfo: false };
    const explicit = children(der, tbs).find((t) => t.tag === 0xa3);
    if (!explicit) return fields;
    for (const ext of children(der, children(der, explicit)[0]!)) {
      const parts = children(der, ext);
      const oid = decodeOid(der, parts[0]!);
      const critical = parts.length === 3 && der[parts[1]!.start] !== 0;
      const octets = parts[parts.length - 1]!;
      const inner = readTlv(der, octets.start, octets.end);
      if (oid === OID_KEY_USAGE) {
        // BIT STRING: first byte counts unused bits, then bit 0 is the high bit of the next byte.
        const usages = new Set<KeyUsage>();
        KEY_USAGE_BITS.forEach((name, bit) => {
          const byte = der[inner.start + 1 + (bit >> 3)];
          if (inner.start + 1 + (bit >> 3) < inner.end && byte !== undefined && byte & (0x80 >> (bit & 7))) usages.add(name);
        });
        fields.keyUsage = { critical, usages };
      } else if (oid === OID_BASIC_CONSTRAINTS) {
        const items = children(der, inner);
        const flag = items.find((t) => t.tag === 0x01);
        const length = items.find((t) => t.tag === 0x02);
        let pathLength: number | undefined;
        if (length) {
          pathLength = 0;
          for (let i = length.start; i < length.end; i++) pathLength = pathLength * 256 + der[i]!;
        }
        fields.basicConstraints = { critical, ca: flag !== undefined && der[flag.start] !== 0, ...(pathLength !== undefined ? { pathLength } : {}) };
      } else if (oid === OID_EXT_KEY_USAGE) {
        fields.extendedKeyUsage = { critical, oids: children(der, inner).map((t) => decodeOid(der, t)) };
      } else if (oid === OID_CRL_DISTRIBUTION_POINTS) {
        fields.revocationInfo = true;
      } else if (oid === OID_AUTHORITY_INFO_ACCESS) {
        if (children(der, inner).some((ad) => decodeOid(der, children(der, ad)[0]!) === OID_OCSP)) fields.revocationInfo = true;
      }
    }
    return fields;
  } catch (err) {
    throw new ModelshipError('NOTATION_CERT_INVALID', `${where} is not a well-formed X.509 certificate (${(err as Error).message}); re-export it as DER or PEM`, { cause: err });
  }
}
