/**
 * X.509 path validation for certificate-signed OMS bundles: leaf, bundled intermediates, then a
 * trusted CA, with the RFC 5280 rules OpenSSL applies when model_signing verifies such a bundle.
 */
import { X509Certificate } from 'node:crypto';
import { ModelshipError } from '../errors/index.js';
import { certificateProfile, isIssuedBy, isValidAt, OID, type CertificateProfile } from './x509.js';

export interface ChainResult {
  ok: boolean;
  detail: string;
}

/** Critical extensions this validator processes; any other critical one fails the path (RFC 5280 6.1.3, as OpenSSL does). */
const UNDERSTOOD_CRITICAL = new Set<string>([OID.basicConstraints, OID.keyUsage, OID.extendedKeyUsage, OID.subjectAltName, OID.subjectKeyIdentifier, OID.authorityKeyIdentifier]);

function subjectOf(cert: CertificateProfile): string {
  return cert.cert.subject.replace(/\n/g, ', ');
}

function readAnchor(pem: string, i: number): CertificateProfile {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    throw new ModelshipError('INPUT_INVALID', `trusted CA certificate ${i} is not a readable PEM certificate: give the CA file as PEM`, { cause: err });
  }
  return certificateProfile(cert, `trusted CA certificate ${i}`, 'INPUT_INVALID');
}

/** The signing certificate may sign: keyUsage present with digitalSignature, and any extendedKeyUsage allows codeSigning. */
function leafUsageProblem(leaf: CertificateProfile): string | undefined {
  // model_signing reads keyUsage unconditionally, so a leaf without it fails there too.
  if (!leaf.keyUsage) return `signing certificate "${subjectOf(leaf)}" has no keyUsage extension; it needs digitalSignature`;
  if (!leaf.keyUsage.usages.has('digitalSignature')) return `signing certificate "${subjectOf(leaf)}" keyUsage lacks digitalSignature`;
  const eku = leaf.extendedKeyUsage?.oids;
  if (eku && !eku.includes(OID.ekuCodeSigning) && !eku.includes(OID.ekuAny)) {
    return `signing certificate "${subjectOf(leaf)}" extendedKeyUsage (${eku.join(', ')}) does not allow codeSigning (${OID.ekuCodeSigning})`;
  }
  return undefined;
}

/** An issuer in the path must be a CA allowed to sign certificates, with room for the CAs below it. */
function issuerProblem(issuer: CertificateProfile, casBelow: number, anchor: boolean): string | undefined {
  const bc = issuer.basicConstraints;
  // OpenSSL accepts a trust anchor without basicConstraints (a v1 root); a bundled intermediate must say cA=true.
  if (bc ? !bc.ca : !anchor) return `"${subjectOf(issuer)}" issues a certificate in the chain but is not a CA (basicConstraints cA is not true)`;
  if (bc?.pathLength !== undefined && bc.pathLength < casBelow) return `"${subjectOf(issuer)}" has pathLenConstraint ${bc.pathLength} but ${casBelow} CA certificates below it`;
  if (issuer.keyUsage && !issuer.keyUsage.usages.has('keyCertSign')) return `"${subjectOf(issuer)}" issues a certificate in the chain but its keyUsage lacks keyCertSign`;
  return undefined;
}

function certificateProblem(cert: CertificateProfile, at: Date): string | undefined {
  if (!isValidAt(cert, at)) {
    return `certificate "${subjectOf(cert)}" is ${at < cert.notBefore ? 'not yet valid' : 'expired'} at ${at.toISOString()} (valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()})`;
  }
  const unknown = cert.criticalExtensions.filter((oid) => !UNDERSTOOD_CRITICAL.has(oid));
  if (unknown.length) return `certificate "${subjectOf(cert)}" has critical extension ${unknown.join(', ')}, which the verifier does not process, so it must refuse the certificate`;
  return undefined;
}

/**
 * Walk from the leaf through the bundle's certificates until one is issued by a trust anchor.
 * Without `validAt` the chain is judged at the leaf's notBefore, as model_signing does: the bundle
 * carries no timestamp, and that is the one time the CA vouched for the key.
 */
export function verifyCertificateChain(chainDer: Buffer[], anchorsPem: string[], validAt?: Date): ChainResult {
  const anchors = anchorsPem.map(readAnchor);
  if (chainDer.length === 0) return { ok: false, detail: 'the bundle holds no certificate' };
  if (anchors.length === 0) return { ok: false, detail: 'no trusted CA certificate was given' };
  let chain: CertificateProfile[];
  try {
    chain = chainDer.map((der, i) => {
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(der);
      } catch (err) {
        throw new ModelshipError('VERIFY_FAILED', `certificate ${i} of the bundle is not a DER certificate`, { cause: err });
      }
      return certificateProfile(cert, `certificate ${i} of the bundle`, 'VERIFY_FAILED');
    });
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
  const leaf = chain[0]!;
  const at = validAt ?? leaf.notBefore;
  const usage = leafUsageProblem(leaf);
  if (usage) return { ok: false, detail: usage };
  let current = leaf;
  const path = [current];
  const fail = (problem: string): ChainResult => ({ ok: false, detail: `certificate chain ${path.map(subjectOf).join(' <- ')}: ${problem}` });
  for (let hops = 0; hops <= chain.length; hops++) {
    const problem = certificateProblem(current, at);
    if (problem) return fail(problem);
    // Pinning the certificate itself: trusted as given, with no CA above it to consult.
    if (anchors.some((a) => a.cert.raw.equals(current.cert.raw))) return { ok: true, detail: `chain ${path.map(subjectOf).join(' <- ')} is trusted` };
    const anchor = anchors.find((a) => isIssuedBy(current, a));
    if (anchor) {
      const anchorProblem = issuerProblem(anchor, path.length - 1, true) ?? certificateProblem(anchor, at);
      if (anchorProblem) return fail(anchorProblem);
      return { ok: true, detail: `chain ${[...path, anchor].map(subjectOf).join(' <- ')} ends at a trusted CA` };
    }
    const next = chain.find((c) => !path.includes(c) && isIssuedBy(current, c));
    if (!next) break;
    const nextProblem = issuerProblem(next, path.length - 1, false);
    path.push(next);
    if (nextProblem) return fail(nextProblem);
    current = next;
  }
  return { ok: false, detail: `certificate chain ${path.map(subjectOf).join(' <- ')} does not lead to a trusted CA` };
}
