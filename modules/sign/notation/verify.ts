/**
 * Verify a Notation signature against a trust policy and named trust stores, following the
 * specification's steps: integrity, authenticity, authentic timestamp, expiry, revocation.
 */
import { X509Certificate } from 'node:crypto';
import { ModelshipError, isModelshipError } from '../../errors/index.js';
import type { Descriptor } from '../../oci/types.js';
import { splitPem } from '../signers.js';
import {
  certificateChainOrderProblem,
  certificateChainProblems,
  chainHasRevocationInfo,
  describeCertificate,
  isSubsetDn,
  parseDistinguishedName,
  subjectAttributes,
  validityProblems,
} from './certificates.js';
import { integrityProblem, parseNotationEnvelope, type ParsedNotationEnvelope } from './jws.js';
import { applicableTrustPolicy, enforcementOf, parseTrustPolicy, type OciTrustPolicyStatement, type TrustPolicyDocument, type ValidationAction, type ValidationType } from './trust-policy.js';

export interface NotationVerifyInput {
  /** The `application/jose+json` layer's bytes. */
  envelope: Uint8Array | string;
  /** The descriptor of the artifact as resolved from the registry or layout. */
  target: Descriptor;
  /** A parsed document, or its JSON text. */
  trustPolicy: TrustPolicyDocument | string;
  /** Named stores, e.g. `{ 'ca:acme': [pem, ...] }`; a PEM string may hold several certificates. */
  trustStores: Record<string, string | string[]>;
  /** `registry/repository@sha256:...`: selects the trust policy statement by registryScopes. */
  artifactReference: string;
  /** Verification time; defaults to now. */
  now?: Date;
}

export interface NotationCheck {
  name: ValidationType;
  ok: boolean;
  /** What the policy does with a failure of this check. */
  action: ValidationAction;
  detail: string;
}

export interface NotationVerification {
  ok: boolean;
  policy: string;
  checks: NotationCheck[];
  /** Why verification failed (the first enforced failure), or a summary when it passed. */
  reason: string;
  /** The verified payload's target; present once integrity passed. */
  targetArtifact?: Descriptor;
  signingTime?: Date;
}

function loadTrustStore(stores: NotationVerifyInput['trustStores'], name: string): X509Certificate[] {
  const entry = stores[name];
  if (entry === undefined) {
    throw new ModelshipError('NOTATION_TRUST_STORE_MISSING', `the trust policy names trust store ${name} but none was given: pass --trust-store ${name}=FILE with its root certificate(s)`);
  }
  const pems = (Array.isArray(entry) ? entry : [entry]).flatMap((p) => splitPem(p));
  if (pems.length === 0) throw new ModelshipError('NOTATION_TRUST_STORE_INVALID', `trust store ${name} holds no PEM certificate: give a file with the root certificate(s)`);
  return pems.map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch (err) {
      throw new ModelshipError('NOTATION_TRUST_STORE_INVALID', `trust store ${name}: certificate ${i} is not a readable PEM certificate`, { cause: err });
    }
  });
}

function sameDescriptor(signed: Descriptor, target: Descriptor): string | undefined {
  const diffs: string[] = [];
  if (signed.digest !== target.digest) diffs.push(`digest ${signed.digest} != ${target.digest}`);
  if (signed.size !== target.size) diffs.push(`size ${signed.size} != ${target.size}`);
  if (signed.mediaType !== target.mediaType) diffs.push(`mediaType ${signed.mediaType} != ${target.mediaType}`);
  return diffs.length ? `the signature is for another artifact (${diffs.join(', ')})` : undefined;
}

/**
 * notation-core-go validates the chain inside envelope verification, so a malformed chain or one
 * not valid at the signed signing time fails integrity, which no trust policy level can downgrade.
 */
async function integrity(input: NotationVerifyInput): Promise<{ envelope?: ParsedNotationEnvelope; problem?: string }> {
  let envelope: ParsedNotationEnvelope;
  try {
    envelope = parseNotationEnvelope(input.envelope, 'the Notation envelope');
  } catch (err) {
    if (isModelshipError(err)) return { problem: err.message };
    throw err;
  }
  const chain = envelope.certificates;
  const chainProblems = [certificateChainOrderProblem(chain), ...certificateChainProblems(chain), ...validityProblems(chain, envelope.signingTime, `at the signing time ${envelope.signingTime.toISOString()}`)];
  const structural = chainProblems.filter((p): p is string => p !== undefined).join('; ') || undefined;
  const problem = (await integrityProblem(envelope)) ?? structural ?? sameDescriptor(envelope.payload.targetArtifact, input.target);
  return problem ? { envelope, problem } : { envelope };
}

function authenticity(envelope: ParsedNotationEnvelope, statement: OciTrustPolicyStatement, stores: NotationVerifyInput['trustStores']): string | undefined {
  const chain = envelope.certificates;
  const trusted = statement.trustStores.filter((s) => s.startsWith('ca:') || s.startsWith('signingAuthority:')).flatMap((s) => loadTrustStore(stores, s));
  // A certificate of the signature's own chain must be one the trust store holds (notation-core-go VerifyAuthenticity).
  const anchor = trusted.find((t) => chain.some((c) => c.raw.equals(t.raw)));
  if (!anchor) return `the certificate chain ${chain.map(describeCertificate).join(' <- ')} does not lead to a certificate in trust stores ${statement.trustStores.join(', ')}`;
  if (statement.trustedIdentities.includes('*')) return undefined;
  const subject = subjectAttributes(chain[0]!);
  if (subject.repeated.length) return `signing certificate subject ${describeCertificate(chain[0]!)} repeats ${[...new Set(subject.repeated)].join(', ')}, so it cannot match an x509.subject identity`;
  const match = statement.trustedIdentities.some((identity) => isSubsetDn(parseDistinguishedName(identity.slice(identity.indexOf(':') + 1), 'trust policy'), subject.attributes));
  return match ? undefined : `signing certificate subject ${describeCertificate(chain[0]!)} is not in trustedIdentities of statement "${statement.name}"`;
}

/** Verify one envelope; throws only for bad configuration (policy, trust stores, reference), never for a bad signature. */
export async function verifyNotation(input: NotationVerifyInput): Promise<NotationVerification> {
  const now = input.now ?? new Date();
  const doc = typeof input.trustPolicy === 'string' ? parseTrustPolicy(input.trustPolicy) : input.trustPolicy;
  const statement = applicableTrustPolicy(doc, input.artifactReference);
  const actions = enforcementOf(statement);
  const checks: NotationCheck[] = [];
  const base = { policy: statement.name, checks };
  if (statement.signatureVerification.level === 'skip') {
    return { ...base, ok: true, reason: `trust policy statement "${statement.name}" skips verification for this repository` };
  }
  // Each failing enforced check ends verification; logged ones are recorded and verification goes on.
  const record = (name: ValidationType, problem: string | undefined, passed: string): boolean => {
    const action = actions[name];
    if (action === 'skip') {
      checks.push({ name, ok: true, action, detail: 'skipped by the trust policy' });
      return true;
    }
    checks.push({ name, ok: problem === undefined, action, detail: problem ?? passed });
    return problem === undefined || action !== 'enforce';
  };
  const failed = (): NotationVerification => {
    const first = checks.find((c) => !c.ok && c.action === 'enforce')!;
    return { ...base, ok: false, reason: `${first.name}: ${first.detail}` };
  };

  const { envelope, problem } = await integrity(input);
  if (!record('integrity', problem, 'the signature verifies with the signing certificate and covers this artifact') || !envelope) return failed();
  const chain = envelope.certificates;
  if (!record('authenticity', authenticity(envelope, statement, input.trustStores), `signed by ${describeCertificate(chain[0]!)}, trusted through ${statement.trustStores.join(', ')}`)) return failed();
  // notary.x509 without a timestamp countersignature: the chain must be valid now; signingAuthority: at its authentic signing time.
  const timestampAt = envelope.protectedHeader['io.cncf.notary.signingScheme'] === 'notary.x509.signingAuthority' ? envelope.signingTime : now;
  const timestampProblem = envelope.jws.header['io.cncf.notary.timestampSignature']
    ? 'the envelope carries an RFC 3161 timestamp, which modelship cannot verify yet'
    : validityProblems(chain, timestampAt, timestampAt === now ? `now (${now.toISOString()}), with no authentic timestamp` : `at the authentic signing time ${timestampAt.toISOString()}`).join('; ') || undefined;
  if (!record('authenticTimestamp', timestampProblem, `every certificate in the chain is valid at ${timestampAt.toISOString()}`)) return failed();
  const expiryProblem = envelope.expiry && now.getTime() >= envelope.expiry.getTime() ? `the signature expired at ${envelope.expiry.toISOString()}` : undefined;
  if (!record('expiry', expiryProblem, envelope.expiry ? `valid until ${envelope.expiry.toISOString()}` : 'the signature sets no expiry')) return failed();
  // No network lookups here: a chain that names a CRL or OCSP responder has revocation status "unavailable".
  const revocationProblem = chainHasRevocationInfo(chain)
    ? 'a certificate names a CRL or OCSP responder, which modelship does not query: revocation status is unavailable (set override revocation: skip or log to accept)'
    : undefined;
  if (!record('revocation', revocationProblem, 'no certificate names a CRL or OCSP responder, so none is revoked')) return failed();
  return {
    ...base,
    ok: true,
    reason: `verified under trust policy statement "${statement.name}" (${statement.signatureVerification.level})`,
    targetArtifact: envelope.payload.targetArtifact,
    signingTime: envelope.signingTime,
  };
}
