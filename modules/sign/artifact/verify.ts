/**
 * Verify a packed artifact's Sigstore bundle referrers against the CURRENT manifest: each bundle's
 * signer per the policy, the model signature's files against the manifest's layers, and statements
 * over the manifest digest against the digest resolved now. Reads no weight blob.
 */
import { describeError, isModelshipError } from '../../errors/index.js';
import { packedFilesOf } from '../../modelpack/layers.js';
import { readArtifact } from '../../modelpack/read.js';
import { parseDigest } from '../../oci/digest.js';
import type { Descriptor, ReadOnlyTarget } from '../../oci/types.js';
import { resourcesFromManifest } from '../oms/manifest-resources.js';
import { OMS_PREDICATE_TYPE, OMS_V02_PREDICATE_TYPE, sortResources, type InTotoStatement, type OmsResource } from '../oms/statement.js';
import { verifyBundle, type VerificationCheck, type VerificationPolicy } from '../verify.js';
import { bundleKeyMaterial, bundleSignerName, parseBundle } from '../bundle.js';
import { findBundles, type FoundBundle } from './referrers.js';
import { COSIGN_SIGN_PREDICATE_TYPE } from './statements.js';
import { verifySimpleSignature } from '../simple-signing.js';
import { findSimpleSignatures, type FoundSimpleSignature } from './simple-signatures.js';

export type BundleRole = 'model-signature' | 'image-signature' | 'attestation';

export interface BundleVerification {
  /** The referrer manifest's digest; for a cosign tag signature, the signature image's. */
  referrer: string;
  /** `simple-signing`: cosign's tag (or OCI 1.1 referrer) signature layer; else a Sigstore bundle referrer. */
  form?: 'sigstore-bundle' | 'simple-signing';
  /** The simple-signing layer checked, and where its image was found. */
  layer?: string;
  source?: 'tag' | 'referrer';
  /** The manifest it refers to: the model manifest, or a ModelCar's index or image. */
  subject: string;
  predicateType?: string;
  role: BundleRole;
  /** Who the bundle says signed (its key hint or certificate identity), whether or not the policy trusts it. */
  signer?: string;
  /** The signature checked out under the policy (whatever its statement says). */
  trusted: boolean;
  ok: boolean;
  checks: VerificationCheck[];
  reason?: string;
}

export interface ArtifactVerification {
  ok: boolean;
  /** The manifest verified. */
  descriptor: Descriptor;
  bundles: BundleVerification[];
  /** Why verification failed: the first failed check that matters. */
  reason?: string;
  /** What passed without being authenticated (only with `allowUnsignedManifest`). */
  warnings?: string[];
}

export interface VerifyArtifactOptions {
  /**
   * Pass when the model signature verifies but no trusted signature covers the manifest digest,
   * with a warning naming what is then unauthenticated (the config, media types, annotations).
   */
  allowUnsignedManifest?: boolean;
}

/** verifyBundle's checks of the signer and the statement envelope; the rest concern OMS content. */
const OMS_CONTENT_CHECKS = new Set(['predicate', 'subject-digest']);
const ROLE_ORDER: Record<BundleRole, number> = { 'model-signature': 0, 'image-signature': 1, attestation: 2 };

export async function verifyArtifact(target: ReadOnlyTarget, ref: string, policy: VerificationPolicy, opts: VerifyArtifactOptions = {}): Promise<ArtifactVerification> {
  const view = await readArtifact(target, ref);
  const current = currentResources(view.manifest);
  // A ModelCar's index (what clusters pin) and platform image carry signatures of their own.
  const subjects = view.resolved.digest === view.descriptor.digest ? [view.descriptor] : [view.descriptor, view.resolved, ...view.images];
  const bundles: BundleVerification[] = [];
  for (const subject of subjects) {
    for (const b of await findBundles(target, subject)) bundles.push(verifyOne(b, policy, subject, current, view.descriptor.digest));
    for (const s of await findSimpleSignatures(target, subject)) bundles.push(verifySimple(s, policy, subject));
  }
  bundles.sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role]);
  const where = `${target.location} (${ref})`;
  const modelBundles = bundles.filter((b) => b.subject === view.descriptor.digest);
  const files = verdict(modelBundles, view.descriptor, where);
  const mismatched = bundles.find((b) => b.trusted && !b.ok);
  if (mismatched) return { descriptor: view.descriptor, bundles, ok: false, reason: mismatched.reason! };
  if (!files.ok) return { descriptor: view.descriptor, bundles, ...files };
  const manifest = manifestVerdict(modelBundles, view.descriptor, view.manifest.config, opts);
  if (!manifest.ok) return { descriptor: view.descriptor, bundles, ...manifest };
  return { descriptor: view.descriptor, bundles, ...manifest, ...indexVerdict(bundles, view.resolved, view.descriptor, where) };
}

/** A ModelCar is verified by cosign-style admission on its index digest: that signature must be there too. */
function indexVerdict(bundles: BundleVerification[], resolved: Descriptor, model: Descriptor, where: string): { ok: boolean; reason?: string } {
  if (resolved.digest === model.digest) return { ok: true };
  if (bundles.some((b) => b.subject === resolved.digest && b.role === 'image-signature' && b.ok && b.trusted)) return { ok: true };
  return {
    ok: false,
    reason: `the model manifest is signed but no trusted signature refers to the index ${resolved.digest} that ${where} resolves to (what KServe pins and Kyverno or policy-controller verify); sign it again with "modelship sign"`,
  };
}

/**
 * The model signature covers file digests only: without a trusted statement over the manifest digest
 * (an image signature or an attestation), the config, layer media types and annotations could be
 * changed and the model signature re-attached to the new manifest.
 */
function manifestVerdict(bundles: BundleVerification[], descriptor: Descriptor, config: Descriptor, opts: VerifyArtifactOptions): { ok: boolean; reason?: string; warnings?: string[] } {
  if (bundles.some((b) => b.trusted && b.ok && b.role !== 'model-signature')) return { ok: true };
  const unauthenticated = `no trusted signature covers the manifest ${descriptor.digest}: the model signature covers the files' digests only, so the config ${config.digest} (model name, format), the layers' media types and annotations, and the manifest's annotations are unauthenticated`;
  if (opts.allowUnsignedManifest) return { ok: true, warnings: [unauthenticated] };
  return { ok: false, reason: `${unauthenticated}; sign the artifact with "modelship sign" (it adds an image signature over the manifest digest), or pass --allow-unsigned-manifest to accept it with a warning` };
}

function verdict(bundles: BundleVerification[], descriptor: Descriptor, where: string): { ok: boolean; reason?: string } {
  if (bundles.length === 0) {
    return { ok: false, reason: `no Sigstore bundle refers to ${where} ${descriptor.digest}; sign it with "modelship sign" (a manifest changed after signing has a new digest, so older signatures do not apply)` };
  }
  // A bundle the policy trusts but whose statement does not match this manifest is tampering: it fails the whole check.
  const mismatched = bundles.find((b) => b.trusted && !b.ok);
  if (mismatched) return { ok: false, reason: mismatched.reason! };
  if (bundles.some((b) => b.role === 'model-signature' && b.ok)) return { ok: true };
  const firstModel = bundles.find((b) => b.role === 'model-signature');
  return { ok: false, reason: firstModel?.reason ?? `no model signature (${OMS_PREDICATE_TYPE}) refers to ${where}; only ${bundles.map((b) => b.predicateType ?? 'unreadable bundles').join(', ')}` };
}

type Current = { resources: OmsResource[] } | { problem: string };

function currentResources(manifest: Parameters<typeof resourcesFromManifest>[0]): Current {
  try {
    return { resources: resourcesFromManifest(manifest, { packedFiles: packedFilesOf(manifest.layers) }) };
  } catch (err) {
    if (isModelshipError(err)) return { problem: describeError(err) };
    throw err;
  }
}

function roleOf(predicateType: string | undefined): BundleRole {
  if (predicateType === OMS_PREDICATE_TYPE || predicateType === OMS_V02_PREDICATE_TYPE) return 'model-signature';
  if (predicateType === COSIGN_SIGN_PREDICATE_TYPE) return 'image-signature';
  return 'attestation';
}

function finish(referrer: string, subject: string, predicateType: string | undefined, trusted: boolean, checks: VerificationCheck[]): BundleVerification {
  const failed = checks.find((c) => !c.ok);
  return { referrer, subject, form: 'sigstore-bundle', ...(predicateType ? { predicateType } : {}), role: roleOf(predicateType), trusted, ok: !failed, checks, ...(failed ? { reason: failed.detail } : {}) };
}

/** A cosign tag signature: the signer under the policy, then its payload's manifest digest against the subject. */
function verifySimple(found: FoundSimpleSignature, policy: VerificationPolicy, subject: Descriptor): BundleVerification {
  const base = { referrer: found.image.digest, subject: subject.digest, form: 'simple-signing' as const, layer: found.layer.digest, source: found.source, role: 'image-signature' as const };
  if (!found.payload) {
    const detail = found.problem ?? `signature layer ${found.layer.digest} could not be read`;
    return { ...base, trusted: false, ok: false, checks: [{ name: 'referrer', ok: false, detail }], reason: detail };
  }
  const verified = verifySimpleSignature(found.payload, found.layer.annotations ?? {}, policy, subject.digest);
  return { ...base, trusted: verified.trusted, ok: verified.ok, checks: verified.checks, ...(verified.reason ? { reason: verified.reason } : {}) };
}

function verifyOne(found: FoundBundle, policy: VerificationPolicy, manifest: Descriptor, current: Current, modelDigest = manifest.digest): BundleVerification {
  const signer = bundleSigner(found);
  const verified = verifyFound(found, policy, manifest, current, modelDigest);
  return signer ? { ...verified, signer } : verified;
}

/** The signer a readable bundle names; undefined for one that cannot be read (its checks say why). */
export function bundleSigner(found: FoundBundle): string | undefined {
  if (!found.bytes) return undefined;
  try {
    const where = `the bundle in referrer ${found.referrer.digest}`;
    return bundleSignerName(bundleKeyMaterial(parseBundle(found.bytes, where)), where);
  } catch {
    return undefined;
  }
}

function verifyFound(found: FoundBundle, policy: VerificationPolicy, manifest: Descriptor, current: Current, modelDigest: string): BundleVerification {
  const digest = found.referrer.digest;
  if (!found.bytes) return finish(digest, manifest.digest, found.declaredPredicateType, false, [{ name: 'referrer', ok: false, detail: found.problem ?? `referrer ${digest} holds no bundle` }]);
  const verified = verifyBundle(found.bytes, policy, `the bundle in referrer ${digest}`);
  const statement = verified.statement;
  const signerChecks = verified.checks.filter((c) => !OMS_CONTENT_CHECKS.has(c.name));
  const trusted = statement !== undefined && signerChecks.every((c) => c.ok);
  const predicateType = statement?.predicateType ?? found.declaredPredicateType;
  if (!trusted) return finish(digest, manifest.digest, predicateType, false, verified.checks);
  const checks = [...signerChecks, declaredTypeCheck(found, statement)];
  if (roleOf(statement.predicateType) === 'model-signature' && manifest.digest === modelDigest) {
    // verifyBundle already checked the OMS predicate and its subject digest.
    checks.push(...verified.checks.filter((c) => OMS_CONTENT_CHECKS.has(c.name)));
    if (verified.content) checks.push(layersCheck(verified.content.resources, current));
  } else {
    checks.push(subjectCheck(statement, manifest));
  }
  return finish(digest, manifest.digest, statement.predicateType, true, checks);
}

/** The annotation is unsigned: it must agree with the signed statement, or tools that filter on it are misled. */
function declaredTypeCheck(found: FoundBundle, statement: InTotoStatement): VerificationCheck {
  const declared = found.declaredPredicateType;
  const ok = declared === undefined || declared === statement.predicateType;
  return { name: 'predicate-type', ok, detail: ok ? `signed predicateType ${statement.predicateType}` : `the referrer declares predicateType ${declared} but the signed statement is ${statement.predicateType}` };
}

function subjectCheck(statement: InTotoStatement, manifest: Descriptor): VerificationCheck {
  const { algorithm, hex } = parseDigest(manifest.digest, 'the manifest');
  const match = statement.subject.find((s) => s.digest[algorithm] === hex);
  if (match) return { name: 'subject', ok: true, detail: `the statement's subject ${match.name} is the manifest ${manifest.digest}` };
  const named = statement.subject.map((s) => Object.entries(s.digest).map(([a, h]) => `${a}:${h}`).join(',')).join('; ');
  return { name: 'subject', ok: false, detail: `the statement is about ${named || 'nothing'}, not the manifest ${manifest.digest} (a signature of another artifact)` };
}

/** The signed files against the manifest's layers now: a swapped, added or removed layer fails with its path. */
function layersCheck(signed: OmsResource[], current: Current): VerificationCheck {
  if ('problem' in current) return { name: 'layers', ok: false, detail: current.problem };
  const want = new Map(signed.map((r) => [r.name, r.digest.toLowerCase()]));
  const have = new Set(current.resources.map((r) => r.name));
  for (const r of current.resources) {
    const d = want.get(r.name);
    if (d === undefined) return { name: 'layers', ok: false, detail: `layer ${r.name} is not in the signature: it was added to the manifest after signing` };
    if (d !== r.digest) return { name: 'layers', ok: false, detail: `layer ${r.name} digest differs: the manifest has sha256:${r.digest}, the signature says sha256:${d}` };
  }
  const missing = sortResources(signed).find((r) => !have.has(r.name));
  if (missing) return { name: 'layers', ok: false, detail: `layer ${missing.name} is signed but no longer in the manifest` };
  return { name: 'layers', ok: true, detail: `all ${current.resources.length} model files in the manifest's layers match the signature` };
}
