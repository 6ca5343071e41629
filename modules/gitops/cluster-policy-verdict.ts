/**
 * What the cluster would decide about an artifact under the policy it enforces (cluster-policy.ts):
 * the rules whose patterns cover the image the Pod names, each signer verified with the project's
 * own verifier (verifyArtifact, checkAdmission), and the reason worded as the controller words it.
 * The MOF minimum the hand-off recorded is checked with the hand-off's gate (mof-verdict.ts).
 */
import { ModelshipError } from '../errors/index.js';
import type { ReadOnlyTarget } from '../oci/types.js';
import { verifyArtifact, type ArtifactVerification } from '../sign/artifact/index.js';
import { loadPublicKey, type VerificationPolicy } from '../sign/index.js';
import { checkAdmission } from './artifact-facts.js';
import { describePolicyPatterns, rulesCovering, type ClusterPolicyRule, type ClusterPolicySet, type ClusterSigner } from './cluster-policy.js';
import type { MofVerdict } from './handoff.js';

export interface ClusterPolicyFacts {
  /** Where the artifact and its signatures are read (the registry the cluster pulls from, or the copy about to be pushed there). */
  target: ReadOnlyTarget;
  /** The digest the Pod names: the ModelCar index when there is one. */
  digest: string;
  /** HOST/REPO the cluster pulls. */
  repository: string;
  /** Sigstore trusted_root.json, for keyless signers (the cluster uses the public-good root by TUF). */
  trustedRoot?: unknown;
  /** The hand-off's MOF gate at `require` for this digest (mof-verdict.ts). */
  mof?: (require: 1 | 2 | 3) => Promise<MofVerdict>;
  /** Verifications by signer (`signerKey`), shared with the caller so it never verifies the same signer twice. */
  verifications?: Map<string, Promise<ArtifactVerification>>;
}

export interface ClusterRuleVerdict {
  controller: ClusterPolicyRule['controller'];
  policy: string;
  rule?: string;
  file: string;
  ok: boolean;
  /** The signature that satisfied the rule. */
  referrer?: string;
  reason?: string;
}

export type ClusterPolicyCode = 'POLICY_NOT_COVERED' | 'POLICY_DENIED' | 'POLICY_MOF_DENIED';

export interface ClusterPolicyVerdict {
  ok: boolean;
  /** HOST/REPO@sha256:… as the Pod names it. */
  image: string;
  covered: boolean;
  rules: ClusterRuleVerdict[];
  mof?: MofVerdict & { policy: string; file: string };
  code?: ClusterPolicyCode;
  /** As the cluster's controller words it (Kyverno's block message, policy-controller's field error). */
  reason?: string;
}

export async function evaluateClusterPolicy(facts: ClusterPolicyFacts, policy: ClusterPolicySet): Promise<ClusterPolicyVerdict> {
  const image = `${facts.repository}@${facts.digest}`;
  const covering = rulesCovering(policy, image);
  if (!covering.length) {
    return {
      ok: false, image, covered: false, rules: [], code: 'POLICY_NOT_COVERED',
      reason: `no admission policy in ${policy.source} checks ${image} (${describePolicyPatterns(policy)}), so the cluster would not verify it: serve, check or ship the registry reference the policy names`,
    };
  }
  const verifications = facts.verifications ?? new Map<string, Promise<ArtifactVerification>>();
  const verifyAs = (signer: ClusterSigner, rule: ClusterPolicyRule) => {
    const id = signerKey(signer);
    if (!verifications.has(id)) verifications.set(id, verifyArtifact(facts.target, facts.digest, verificationPolicyOf(signer, rule, facts.trustedRoot)));
    return verifications.get(id)!;
  };
  const rules: ClusterRuleVerdict[] = [];
  for (const rule of covering) rules.push(await evaluateRule(rule, image, facts.digest, verifyAs));
  const denied = rules.filter((r) => !r.ok);
  if (denied.length) return { ok: false, image, covered: true, rules, code: 'POLICY_DENIED', reason: denied.map((r) => r.reason).join('\n') };

  // The strictest minimum any covering policy records (Class 1 is the most open, so the smallest number).
  const gated = covering.filter((r) => r.mofMinimum !== undefined).sort((a, b) => a.mofMinimum! - b.mofMinimum!)[0];
  if (!gated) return { ok: true, image, covered: true, rules };
  if (!facts.mof) throw new ModelshipError('POLICY_INVALID', `${gated.source.file} (${gated.policy}) requires MOF Class ${gated.mofMinimum} but the MOF class of ${image} cannot be computed here`);
  const mof = { ...(await facts.mof(gated.mofMinimum!)), policy: gated.policy, file: gated.source.file };
  if (mof.passed) return { ok: true, image, covered: true, rules, mof };
  return {
    ok: false, image, covered: true, rules, mof, code: 'POLICY_MOF_DENIED',
    reason: `${image} is ${mof.label}, not Class ${gated.mofMinimum} or better as the hand-off's MOF gate requires (${gated.source.file}, ${gated.policy})${mof.missing?.length ? `; missing: ${mof.missing.join(', ')}` : ''}`,
  };
}

/** One key per signer: its public key, or its keyless issuer and subject pattern. */
export function signerKey(signer: ClusterSigner): string {
  return signer.kind === 'key' ? signer.publicKeyPem : `${signer.issuer}\n${signer.subjectRegExp}`;
}

/** Throws the verdict's refusal as a coded error; passes an admitted artifact through. */
export function assertClusterPolicy(verdict: ClusterPolicyVerdict): void {
  if (verdict.ok) return;
  throw new ModelshipError(verdict.code ?? 'POLICY_DENIED', `the cluster's policy refuses ${verdict.image}: ${verdict.reason}`, { details: { verdict } });
}

type VerifyAs = (signer: ClusterSigner, rule: ClusterPolicyRule) => Promise<ArtifactVerification>;

async function evaluateRule(rule: ClusterPolicyRule, image: string, digest: string, verifyAs: VerifyAs): Promise<ClusterRuleVerdict> {
  const base = { controller: rule.controller, policy: rule.policy, ...(rule.rule ? { rule: rule.rule } : {}), file: rule.source.file };
  const failures: { signer: ClusterSigner; inner: string }[] = [];
  let referrer: string | undefined;
  for (const set of rule.signerSets) {
    let verified = 0;
    const setFailures: { signer: ClusterSigner; inner: string }[] = [];
    for (const signer of set.signers) {
      const result = await verifyAs(signer, rule);
      // The same check the hand-off makes for the controller: a trusted image signature over the Pod's digest, in the form it reads.
      const admission = checkAdmission(result, [{ consumer: rule.controller, digest, form: rule.form }]);
      if (admission.ok) {
        verified++;
        referrer ??= admission.referrer;
        if (verified >= set.required) break;
      } else {
        setFailures.push({ signer, inner: innerReason(rule, result, digest) });
      }
    }
    if (verified < set.required) failures.push(...setFailures);
    // Kyverno stops at the first attestor set that fails (pkg/engine/internal/imageverifier.go verifyAttestors).
    if (verified < set.required && rule.controller === 'kyverno') break;
  }
  if (!failures.length) return { ...base, ok: true, ...(referrer ? { referrer } : {}) };
  return { ...base, ok: false, reason: controllerReason(rule, image, failures) };
}

/**
 * The innermost error, as the verifier the controller runs words it:
 * - Kyverno `type: SigstoreBundle` (v1.19.0 pkg/image/verifiers/cpol/cosign/verifier.go VerifySignature):
 *   "sigstore bundle verification failed: no matching signatures found" whether none or none verifies;
 * - cosign's VerifyImageSignatures (v3 pkg/cosign/verify.go verifySignatures), which Kyverno `type: Cosign`
 *   and policy-controller call: "no signatures found", or "no matching signatures: <each signature's error>".
 * The per-signature error after "no matching signatures:" is modelship's verifier's, not cosign's.
 */
function innerReason(rule: ClusterPolicyRule, result: ArtifactVerification, digest: string): string {
  if (rule.form === 'sigstore-bundle') return 'sigstore bundle verification failed: no matching signatures found';
  const inForm = result.bundles.filter((b) => b.subject === digest && b.role === 'image-signature' && (b.form ?? 'sigstore-bundle') === rule.form);
  if (!inForm.length) return 'no signatures found';
  return `no matching signatures: ${inForm.map((b) => b.reason ?? 'the signature does not verify').join('\n ')}`;
}

/**
 * The controller's refusal:
 * - Kyverno v1.19.0: pkg/engine/internal/imageverifier.go handleRegistryErrors "failed to verify image
 *   IMAGE: PATH: ERR" (entries joined by multierr as "; "), reported per policy and rule by
 *   pkg/webhooks/utils/block.go as "POLICY:\n  RULE: MESSAGE";
 * - policy-controller v0.15.1: pkg/webhook/validator.go ValidatePolicySignaturesForAuthority
 *   "signature key validation failed for authority NAME for IMAGE: ERR" (keyless: "signature keyless
 *   validation failed …"), gathered by validateContainerImage into "failed policy: POLICY" with the
 *   image and each authority's error as details.
 */
function controllerReason(rule: ClusterPolicyRule, image: string, failures: { signer: ClusterSigner; inner: string }[]): string {
  if (rule.controller === 'kyverno') {
    return `${rule.policy}: ${rule.rule}: failed to verify image ${image}: ${failures.map((f) => `${f.signer.path}: ${f.inner}`).join('; ')}`;
  }
  // pkg/webhook/validation.go valid(): of an authority's keys, the last error is reported.
  const byAuthority = new Map<string, { signer: ClusterSigner; inner: string }>();
  for (const f of failures) byAuthority.set(f.signer.path, f);
  const errors = [...byAuthority.values()].map((f) => `signature ${f.signer.kind === 'key' ? 'key' : 'keyless'} validation failed for authority ${f.signer.path} for ${image}: ${f.inner}`);
  return `failed policy: ${rule.policy}: ${image} ${errors.join(' ')}`;
}

export function verificationPolicyOf(signer: ClusterSigner, rule: ClusterPolicyRule, trustedRoot: unknown): VerificationPolicy {
  const where = `${rule.source.file} (${rule.policy}) ${signer.path}`;
  if (signer.kind === 'key') {
    try {
      return { kind: 'key', publicKey: loadPublicKey(signer.publicKeyPem, where) };
    } catch (err) {
      throw new ModelshipError('POLICY_INVALID', `${where}: the public key does not load: ${(err as Error).message}`, { cause: err });
    }
  }
  if (trustedRoot === undefined) {
    throw new ModelshipError('POLICY_TRUSTED_ROOT_MISSING', `${where} verifies keyless signatures (issuer ${signer.issuer}): pass --trusted-root FILE (a Sigstore trusted_root.json, e.g. public-good's) so they can be checked here as the cluster checks them`);
  }
  // cosign and Kyverno match the subject with regexp.MatchString: unanchored.
  return { kind: 'keyless', identity: new RegExp(`[\\s\\S]*(?:${signer.subjectRegExp})[\\s\\S]*`), issuer: signer.issuer, trustedRoot };
}
