/**
 * Certificate rules of the Notary Project signature specification ("Certificate Requirements") and
 * the X.509 distinguished-name matching its trust policies use for `x509.subject:` identities.
 */
import { X509Certificate } from 'node:crypto';
import { ModelshipError } from '../../errors/index.js';
import { certificateProfile, describeCertificate, isIssuedBy, isSelfSigned, isValidAt, OID, parseName, type CertificateProfile, type KeyUsage } from '../x509.js';

export { describeCertificate };

/** EKUs a signing certificate must not carry (the specification's list, plus OCSPSigning as notation-core-go refuses it). */
const EKU_FORBIDDEN: Record<string, string> = {
  [OID.ekuAny]: 'anyExtendedKeyUsage',
  [OID.ekuServerAuth]: 'serverAuth',
  [OID.ekuClientAuth]: 'clientAuth',
  [OID.ekuEmailProtection]: 'emailProtection',
  [OID.ekuTimeStamping]: 'timeStamping',
  [OID.ekuOcspSigning]: 'OCSPSigning',
};
const LEAF_FORBIDDEN_USAGES: KeyUsage[] = ['keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'encipherOnly', 'decipherOnly', 'cRLSign'];

function profiles(chain: X509Certificate[]): CertificateProfile[] {
  return chain.map((cert, i) => certificateProfile(cert, `certificate ${i} ${describeCertificate(cert)}`));
}

/** Decode the `x5c` entries (base64 DER); `where` names the envelope for the message. */
export function decodeCertificateChain(x5c: unknown, where: string): X509Certificate[] {
  if (!Array.isArray(x5c) || x5c.length === 0 || !x5c.every((c) => typeof c === 'string')) {
    throw new ModelshipError('NOTATION_ENVELOPE_INVALID', `${where}: header.x5c must be a non-empty array of base64 DER certificates, leaf first`);
  }
  return x5c.map((b64: string, i) => {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(Buffer.from(b64, 'base64'));
    } catch (err) {
      throw new ModelshipError('NOTATION_ENVELOPE_INVALID', `${where}: header.x5c[${i}] is not a DER certificate`, { cause: err });
    }
    certificateProfile(cert, `${where}: header.x5c[${i}]`, 'NOTATION_ENVELOPE_INVALID');
    return cert;
  });
}

/**
 * Problems with the chain against the specification's certificate requirements; empty when it meets them.
 * Only basicConstraints, keyUsage and extendedKeyUsage are honoured: the specification says other
 * extensions, critical or not, "MUST NOT be evaluated" (fail open), as notation-core-go does.
 */
export function certificateChainProblems(chain: X509Certificate[]): string[] {
  const problems: string[] = [];
  profiles(chain).forEach((fields, i) => {
    const name = `certificate ${i} ${describeCertificate(fields.cert)}`;
    if (fields.signatureHash === 'SHA-1') problems.push(`${name} is signed with SHA-1, which Notation refuses`);
    const key = fields.cert.publicKey;
    const details = key.asymmetricKeyDetails;
    if ((key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') && (details?.modulusLength ?? 0) < 2048) problems.push(`${name} has an RSA key under 2048 bits`);
    // A lone self-signed certificate is held to the leaf rules (spec "Other requirements" 1).
    if (i === 0) {
      if (fields.basicConstraints?.ca) problems.push(`${name} is the signing certificate but basicConstraints says cA=true`);
      if (!fields.keyUsage) problems.push(`${name} has no keyUsage extension; Notation requires a critical keyUsage with digitalSignature`);
      else {
        if (!fields.keyUsage.critical) problems.push(`${name}: keyUsage must be marked critical`);
        if (!fields.keyUsage.usages.has('digitalSignature')) problems.push(`${name}: keyUsage lacks digitalSignature`);
        const extra = LEAF_FORBIDDEN_USAGES.filter((u) => fields.keyUsage!.usages.has(u));
        if (extra.length) problems.push(`${name}: keyUsage must not include ${extra.join(', ')}`);
      }
      const forbidden = (fields.extendedKeyUsage?.oids ?? []).map((o) => EKU_FORBIDDEN[o]).filter((n): n is string => n !== undefined);
      if (forbidden.length) problems.push(`${name}: extendedKeyUsage must not include ${forbidden.join(', ')} (use codeSigning, ${OID.ekuCodeSigning})`);
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

/** The chain must run leaf -> intermediates -> a self-signed root, each signed by the next (spec "Other requirements" 2). */
export function certificateChainOrderProblem(chain: X509Certificate[]): string | undefined {
  const fields = profiles(chain);
  for (let i = 0; i < fields.length; i++) {
    const cert = fields[i]!;
    const last = i === fields.length - 1;
    if (last) {
      if (!isSelfSigned(cert)) return `the chain ends at ${describeCertificate(cert.cert)}, which is not a self-signed root: include the root certificate in the chain`;
      continue;
    }
    // A self-signed certificate before the end is an extra root or an unrelated certificate.
    if (isSelfSigned(cert)) return `certificate ${i} ${describeCertificate(cert.cert)} is self-signed but is not the last in the chain: remove it or put the root last`;
    const issuer = fields[i + 1]!;
    if (!isIssuedBy(cert, issuer)) {
      return `certificate ${i} ${describeCertificate(cert.cert)} is not signed by the next certificate ${describeCertificate(issuer.cert)}: order the chain leaf first, then intermediates, then the root`;
    }
  }
  return undefined;
}

/** Certificates in the chain not valid at `at`; empty when all are. `when` says which time it is, for the message. */
export function validityProblems(chain: X509Certificate[], at: Date, when = `at ${at.toISOString()}`): string[] {
  return profiles(chain)
    .filter((c) => !isValidAt(c, at))
    .map((c) => {
      const state = at < c.notBefore ? 'not yet valid' : 'expired';
      return `certificate ${describeCertificate(c.cert)} is ${state} ${when} (valid ${c.notBefore.toISOString()} to ${c.notAfter.toISOString()})`;
    });
}

/** True when some certificate in the chain names a CRL or OCSP responder. */
export function chainHasRevocationInfo(chain: X509Certificate[]): boolean {
  return profiles(chain).some((c) => c.revocationInfo);
}

/** OpenSSL's attribute names mapped to the RFC 4514 names trust policies use. */
const ATTRIBUTE_ALIASES: Record<string, string> = { SERIALNUMBER: 'SERIALNUMBER', STREET: 'STREET', POSTALCODE: 'POSTALCODE', EMAILADDRESS: 'E' };

function attributeName(name: string): string {
  const upper = name.trim().toUpperCase();
  return ATTRIBUTE_ALIASES[upper] ?? upper;
}

/** Attribute types trust policies name that @peculiar/x509 has no short name for. */
const EXTRA_ATTRIBUTE_NAMES = { SERIALNUMBER: '2.5.4.5', STREET: '2.5.4.9', POSTALCODE: '2.5.4.17' };

/**
 * The certificate's subject as attribute -> value, read from its DER name rather than a printed form.
 * A repeated attribute makes the subject unmatchable, as notation-go refuses such a DN.
 */
export function subjectAttributes(cert: X509Certificate): { attributes: Map<string, string>; repeated: string[] } {
  const name = parseName(certificateProfile(cert, describeCertificate(cert)).subjectDer, EXTRA_ATTRIBUTE_NAMES);
  const attributes = new Map<string, string>();
  const repeated: string[] = [];
  for (const rdn of name.toJSON()) {
    for (const [type, values] of Object.entries(rdn)) {
      const key = attributeName(type);
      for (const value of values) {
        if (attributes.has(key)) repeated.push(key);
        attributes.set(key, value);
      }
    }
  }
  return { attributes, repeated };
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
