/**
 * Certificate rules of the Notary Project signature specification ("Certificate Requirements") and
 * the X.509 distinguished-name matching its trust policies use for `x509.subject:` identities.
 */
import { X509Certificate } from 'node:crypto';
import { ModelshipError } from '../../errors/index.js';
import { certificateFields, type KeyUsage } from './der.js';

const EKU_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
/** EKUs a signing certificate must not carry (anyExtendedKeyUsage, serverAuth, clientAuth, emailProtection, timeStamping). */
const EKU_FORBIDDEN: Record<string, string> = {
  '2.5.29.37.0': 'anyExtendedKeyUsage',
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
};
const LEAF_FORBIDDEN_USAGES: KeyUsage[] = ['keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'encipherOnly', 'decipherOnly', 'cRLSign'];
/** sha1WithRSAEncryption and ecdsa-with-SHA1 are refused anywhere in the chain. */
const SHA1_SIGNATURES = new Set(['1.2.840.113549.1.1.5', '1.2.840.10045.4.1']);

export function describeCertificate(cert: X509Certificate): string {
  return `"${cert.subject.replace(/\n/g, ', ')}"`;
}

/** Decode the `x5c` entries (base64 DER); `where` names the envelope for the message. */
export function decodeCertificateChain(x5c: unknown, where: string): X509Certificate[] {
  if (!Array.isArray(x5c) || x5c.length === 0 || !x5c.every((c) => typeof c === 'string')) {
    throw new ModelshipError('NOTATION_ENVELOPE_INVALID', `${where}: header.x5c must be a non-empty array of base64 DER certificates, leaf first`);
  }
  return x5c.map((b64: string, i) => {
    try {
      return new X509Certificate(Buffer.from(b64, 'base64'));
    } catch (err) {
      throw new ModelshipError('NOTATION_ENVELOPE_INVALID', `${where}: header.x5c[${i}] is not a DER certificate`, { cause: err });
    }
  });
}

/** Problems with the chain against the specification's certificate requirements; empty when it meets them. */
export function certificateChainProblems(chain: X509Certificate[]): string[] {
  const problems: string[] = [];
  chain.forEach((cert, i) => {
    const name = `certificate ${i} ${describeCertificate(cert)}`;
    const fields = certificateFields(cert, name);
    if (SHA1_SIGNATURES.has(fields.signatureAlgorithmOid)) problems.push(`${name} is signed with SHA-1, which Notation refuses`);
    const details = cert.publicKey.asymmetricKeyDetails;
    if (cert.publicKey.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) < 2048) problems.push(`${name} has an RSA key under 2048 bits`);
    // A lone self-signed certificate is held to the leaf rules (spec "Other requirements" 1).
    const leafRules = i === 0;
    if (leafRules) {
      if (fields.basicConstraints?.ca) problems.push(`${name} is the signing certificate but basicConstraints says cA=true`);
      if (!fields.keyUsage) problems.push(`${name} has no keyUsage extension; Notation requires a critical keyUsage with digitalSignature`);
      else {
        if (!fields.keyUsage.critical) problems.push(`${name}: keyUsage must be marked critical`);
        if (!fields.keyUsage.usages.has('digitalSignature')) problems.push(`${name}: keyUsage lacks digitalSignature`);
        const extra = LEAF_FORBIDDEN_USAGES.filter((u) => fields.keyUsage!.usages.has(u));
        if (extra.length) problems.push(`${name}: keyUsage must not include ${extra.join(', ')}`);
      }
      const forbidden = (fields.extendedKeyUsage?.oids ?? []).map((o) => EKU_FORBIDDEN[o]).filter((n): n is string => n !== undefined);
      if (forbidden.length) problems.push(`${name}: extendedKeyUsage must not include ${forbidden.join(', ')} (use codeSigning, ${EKU_CODE_SIGNING})`);
    } else {
      if (!fields.basicConstraints?.ca || !fields.basicConstraints.critical) problems.push(`${name} is a CA in the chain but lacks a critical basicConstraints with cA=true`);
      else if (fields.basicConstraints.pathLength !== undefined && fields.basicConstraints.pathLength < i - 1) {
        problems.push(`${name} has pathLenConstraint ${fields.basicConstraints.pathLength} but ${i - 1} CA certificates below it`);
      }
      if (!fields.keyUsage?.critical || !fields.keyUsage.usages.has('keyCertSign')) problems.push(`${name} is a CA in the chain but lacks a critical keyUsage with keyCertSign`);
    }
  });
  return problems;
}

/** The chain must run leaf -> intermediates -> a self-signed root, each signed by the next. */
export function certificateChainOrderProblem(chain: X509Certificate[]): string | undefined {
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    const issuer = chain[i + 1] ?? cert;
    const last = i === chain.length - 1;
    // Names and signature only: OpenSSL's checkIssued also wants keyCertSign, which a lone self-signed leaf lacks.
    if (cert.issuer !== issuer.subject || !cert.verify(issuer.publicKey)) {
      return last
        ? `the chain ends at ${describeCertificate(cert)}, which is not a self-signed root: include the root certificate in the chain`
        : `certificate ${i} ${describeCertificate(cert)} is not signed by the next certificate ${describeCertificate(issuer)}: order the chain leaf first, then intermediates, then the root`;
    }
  }
  return undefined;
}

/** Certificates in the chain not valid at `at`; empty when all are. */
export function validityProblems(chain: X509Certificate[], at: Date): string[] {
  return chain
    .filter((c) => at < new Date(c.validFrom) || at > new Date(c.validTo))
    .map((c) => `certificate ${describeCertificate(c)} is not valid at ${at.toISOString()} (valid ${c.validFrom} to ${c.validTo})`);
}

/** True when some certificate in the chain names a CRL or OCSP responder. */
export function chainHasRevocationInfo(chain: X509Certificate[]): boolean {
  return chain.some((c, i) => certificateFields(c, `certificate ${i}`).revocationInfo);
}

/** OpenSSL's attribute names mapped to the RFC 4514 names trust policies use. */
const ATTRIBUTE_ALIASES: Record<string, string> = { SERIALNUMBER: 'SERIALNUMBER', STREET: 'STREET', POSTALCODE: 'POSTALCODE', EMAILADDRESS: 'E' };

function attributeName(name: string): string {
  const upper = name.trim().toUpperCase();
  return ATTRIBUTE_ALIASES[upper] ?? upper;
}

/** The certificate's subject as attribute -> value (node prints one RDN a line). */
export function subjectAttributes(cert: X509Certificate): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of cert.subject.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out.set(attributeName(line.slice(0, eq)), line.slice(eq + 1));
  }
  return out;
}

/** Parse an RFC 4514 DN from a trust policy (`C=US, ST=WA, O=acme`), with the escapes the specification lists. */
export function parseDistinguishedName(dn: string, where: string): Map<string, string> {
  const rdns: string[] = [];
  let current = '';
  for (let i = 0; i < dn.length; i++) {
    const ch = dn[i]!;
    if (ch === '\\' && i + 1 < dn.length) {
      current += ch + dn[++i];
    } else if (ch === ',' || ch === ';') {
      rdns.push(current);
      current = '';
    } else if (ch === '+') {
      throw new ModelshipError('NOTATION_POLICY_INVALID', `${where}: distinguished name "${dn}" has a multi-valued RDN, which Notation does not support`);
    } else current += ch;
  }
  rdns.push(current);
  const out = new Map<string, string>();
  for (const rdn of rdns) {
    const eq = rdn.indexOf('=');
    if (eq <= 0) throw new ModelshipError('NOTATION_POLICY_INVALID', `${where}: "${rdn.trim()}" in "${dn}" is not an attribute=value pair`);
    const name = attributeName(rdn.slice(0, eq));
    const value = rdn.slice(eq + 1).trim().replace(/\\(.)/g, '$1');
    if (out.has(name)) throw new ModelshipError('NOTATION_POLICY_INVALID', `${where}: distinguished name "${dn}" repeats ${name}; each attribute may appear once`);
    out.set(name, value);
  }
  for (const required of ['C', 'ST', 'O']) {
    if (!out.get(required)) throw new ModelshipError('NOTATION_POLICY_INVALID', `${where}: distinguished name "${dn}" lacks ${required}; trusted identities need at least C, ST and O`);
  }
  return out;
}

/** Every attribute of `pattern` has the same value in `subject`. */
export function isSubsetDn(pattern: Map<string, string>, subject: Map<string, string>): boolean {
  for (const [name, value] of pattern) if (subject.get(name) !== value) return false;
  return true;
}
