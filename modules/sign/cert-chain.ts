/** X.509 chain checks for certificate-signed bundles: leaf, bundled intermediates, then a trusted CA. */
import { X509Certificate } from 'node:crypto';

export interface ChainResult {
  ok: boolean;
  detail: string;
}

/** Walk from the leaf through the bundle's certificates until one is issued by a trust anchor. */
export function verifyCertificateChain(chainDer: Buffer[], anchorsPem: string[], now: Date = new Date()): ChainResult {
  const chain = chainDer.map((der) => new X509Certificate(der));
  const anchors = anchorsPem.map((pem) => new X509Certificate(pem));
  if (chain.length === 0) return { ok: false, detail: 'the bundle holds no certificate' };
  if (anchors.length === 0) return { ok: false, detail: 'no trusted CA certificate was given' };
  for (const cert of chain) {
    if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) {
      return { ok: false, detail: `certificate "${cert.subject.replace(/\n/g, ', ')}" is not valid now (valid ${cert.validFrom} to ${cert.validTo})` };
    }
  }
  let current = chain[0]!;
  const path = [subjectOf(current)];
  for (let hops = 0; hops <= chain.length; hops++) {
    if (anchors.some((a) => a.fingerprint256 === current.fingerprint256)) return { ok: true, detail: `chain ${path.join(' <- ')} is trusted` };
    const anchor = anchors.find((a) => current.checkIssued(a) && current.verify(a.publicKey));
    if (anchor) return { ok: true, detail: `chain ${[...path, subjectOf(anchor)].join(' <- ')} ends at a trusted CA` };
    const next = chain.find((c) => c !== current && current.checkIssued(c) && current.verify(c.publicKey));
    if (!next) break;
    current = next;
    path.push(subjectOf(current));
  }
  return { ok: false, detail: `certificate chain ${path.join(' <- ')} does not lead to a trusted CA` };
}

function subjectOf(cert: X509Certificate): string {
  return cert.subject.replace(/\n/g, ', ');
}
