/**
 * The chain from what runs in the cluster back to where it came from, one link at a time: the
 * artifact the storageUri pins, the model registry's record of that digest, its signatures, SBOM,
 * MOF class and source. Each link says whether it holds, and if not, why and with which exit status.
 */
import { MOF_REPORT_ARTIFACT_TYPE } from '../card/index.js';
import { EXIT_STATUS, describeError, familyOf, isModelshipError } from '../errors/index.js';
import { readArtifactFacts, sbomSummary, type ArtifactFacts } from '../gitops/artifact-facts.js';
import { evaluateMof, mofVerdictOf, type MofEvaluation } from '../gitops/mof-verdict.js';
import type { MofVerdict } from '../gitops/handoff.js';
import { rulesCovering, type ClusterPolicySet } from '../gitops/cluster-policy.js';
import { evaluateClusterPolicy, signerKey, verificationPolicyOf, type ClusterPolicyVerdict } from '../gitops/cluster-policy-verdict.js';
import { ANNOTATION_HF_SOURCE, ANNOTATION_OCI_REVISION, ANNOTATION_OCI_SOURCE } from '../hub/source.js';
import { formatPlatform, referrers, type Descriptor, type ReadOnlyTarget } from '../oci/index.js';
import { stringProperty, type DigestRecord } from '../registry/index.js';
import { parseBundle } from '../sign/bundle.js';
import {
  bundleSigner, findBundles, findSimpleSignatures, verifyArtifact,
  CYCLONEDX_PREDICATE_TYPE, SPDX_PREDICATE_TYPE, type ArtifactVerification, type BundleVerification, type FoundBundle,
} from '../sign/artifact/index.js';
import { SLSA_PROVENANCE_V1 } from '../sign/slsa.js';
import type { VerificationPolicy } from '../sign/verify.js';
import { publicKeyHint } from '../sign/keys.js';
import type { TraceInput } from './input.js';

export const LINK_NAMES = ['artifact', 'registry-record', 'signatures', 'sbom', 'mof', 'source'] as const;
export type LinkName = (typeof LINK_NAMES)[number];
/** `unverified`: present, but no policy to check it against; `skipped`: an earlier link it needs is broken. */
export type LinkStatus = 'ok' | 'missing' | 'failed' | 'unreachable' | 'unverified' | 'skipped';

export interface TraceLink {
  name: LinkName;
  status: LinkStatus;
  /** One line: what the link found, or why it is broken. */
  summary: string;
  /** The tree's leaves under the link. */
  details: string[];
  /** The error code of a broken link (docs/exit-codes.md). */
  code?: string;
  /** The exit status a broken link gives the trace; 0 when it holds or was skipped. */
  exitCode: number;
  data?: Record<string, unknown>;
}

export interface TraceResult {
  /** The trace is complete: every link holds. */
  ok: boolean;
  /** The exit status of the first broken link, 0 when complete. */
  exitCode: number;
  brokenLink?: LinkName;
  storageUri: string;
  /** What the storageUri pins (the ModelCar index for a ModelCar). */
  digest?: string;
  links: TraceLink[];
}

/** The artifact, opened where the trace reads it (the registry, or the local store's copy). */
export interface OpenedArtifactCopy {
  target: ReadOnlyTarget;
  selector: string;
  display: string;
  /** Where it was read: "registry" or "local". */
  where: string;
}

export interface TraceOptions {
  input: TraceInput;
  open: () => Promise<OpenedArtifactCopy>;
  /**
   * Whom to trust, and where that came from: a signer (e.g. "--key cosign.pub"), or the admission
   * policy the GitOps repository holds, judged as its controller would. None lists signatures unverified.
   */
  policy?: TracePolicy;
  /** What the model registry records for the digest, and which registry answered. */
  lookUp: (digest: string, modelVersionId?: string) => Promise<{ registry: string; records: DigestRecord[] }>;
  /** The lowest MOF class the cluster admits (1 most open); undefined: no gate. */
  requireMof?: 1 | 2 | 3;
}

export type TracePolicy =
  | { kind: 'signer'; policy: VerificationPolicy; source: string }
  | { kind: 'cluster'; set: ClusterPolicySet; source: string; trustedRoot?: unknown };

type Broken = { status: Exclude<LinkStatus, 'ok' | 'skipped'>; code: string };

function link(name: LinkName, summary: string, details: string[] = [], data?: Record<string, unknown>): TraceLink {
  return { name, status: 'ok', summary, details, exitCode: 0, ...(data ? { data } : {}) };
}

function broken(name: LinkName, b: Broken, summary: string, details: string[] = [], data?: Record<string, unknown>): TraceLink {
  return { name, status: b.status, summary, details, code: b.code, exitCode: EXIT_STATUS[familyOf(b.code)], ...(data ? { data } : {}) };
}

function skipped(name: LinkName, why: string): TraceLink {
  return { name, status: 'skipped', summary: why, details: [], exitCode: 0 };
}

const UNREACHABLE_CODES = new Set(['OCI_NETWORK', 'OCI_REGISTRY', 'OCI_TLS', 'MODEL_REGISTRY_NETWORK', 'MODEL_REGISTRY_SERVER', 'MODEL_REGISTRY_INVALID_RESPONSE']);
const MISSING_CODES = new Set(['OCI_NOT_FOUND', 'STORE_NOT_FOUND', 'MODEL_REGISTRY_NOT_FOUND']);

/** A failure as a broken link: unreachable (network), missing (not found) or failed, with its own code. */
function fromError(name: LinkName, err: unknown, what: string): TraceLink {
  const code = isModelshipError(err) ? err.code : 'TRACE_FAILED';
  const status = UNREACHABLE_CODES.has(code) ? 'unreachable' : MISSING_CODES.has(code) ? 'missing' : 'failed';
  return broken(name, { status, code }, `${what}: ${describeError(err)}`);
}

export async function trace(opts: TraceOptions): Promise<TraceResult> {
  const { input } = opts;
  const links: TraceLink[] = [];
  const pinned = input.image.digest;

  // 1. The artifact the storageUri names, and what it is.
  let opened: OpenedArtifactCopy | undefined;
  let facts: ArtifactFacts | undefined;
  try {
    opened = await opts.open();
    facts = await readArtifactFacts(opened.target, opened.selector, input.image.repository);
  } catch (err) {
    links.push(fromError('artifact', err, `cannot read ${input.storageUri}`));
  }
  const digest = facts?.pulled.digest ?? pinned;
  if (facts && opened) links.push(artifactLink(input, facts, opened));

  // 2. The model registry's record of that digest (needs only the digest).
  links.push(digest ? await registryLink(opts, digest) : skipped('registry-record', 'no digest to look up: the artifact could not be read and the storageUri names a tag'));

  if (!facts || !opened) {
    for (const name of ['signatures', 'sbom', 'mof', 'source'] as const) links.push(skipped(name, 'the artifact could not be read'));
    return finish(input, digest, links);
  }
  const { target } = opened;
  // One MOF evaluation for the policy's minimum (on the index digest) and the mof link (on the model
  // manifest): both read the same ModelPack manifest and documents, which an index resolves to.
  let evaluation: Promise<MofEvaluation> | undefined;
  const mofAt: MofAt = async (require) => mofVerdictOf(await (evaluation ??= evaluateMof(target, facts.view.descriptor.digest, opened.display)), require);
  const judged = await judge(opts, opened, facts, mofAt);
  links.push(judged.link);
  const verification = judged.verification;
  links.push(await sbomLink(target, facts, verification));
  links.push(await mofLink(opened, facts, judged.requireMof ?? opts.requireMof, mofAt));
  links.push(await sourceLink(target, facts, verification));
  return finish(input, digest, links);
}

function finish(input: TraceInput, digest: string | undefined, links: TraceLink[]): TraceResult {
  const first = links.find((l) => l.status !== 'ok' && l.status !== 'skipped');
  return {
    ok: first === undefined,
    exitCode: first?.exitCode ?? 0,
    ...(first ? { brokenLink: first.name } : {}),
    storageUri: input.storageUri,
    ...(digest ? { digest } : {}),
    links,
  };
}

function artifactLink(input: TraceInput, facts: ArtifactFacts, opened: OpenedArtifactCopy): TraceLink {
  const { view } = facts;
  const isIndex = view.resolved.digest !== view.descriptor.digest;
  const what = isIndex ? (facts.hasModelCar ? 'ModelCar index' : 'index') : 'model manifest';
  const details = [
    `${what} ${facts.pulled.digest}${opened.where === 'local' ? ' (the local store\'s copy)' : ''}`,
    ...(isIndex ? [`model manifest ${view.descriptor.digest} (${view.format})`, ...view.images.map((i) => `image ${i.platform ? formatPlatform(i.platform) : i.mediaType} ${i.digest}`)] : []),
    `model ${facts.modelName ?? '(unnamed)'}${facts.format ? `, ${facts.format}` : ''}${facts.modelFile ? `, ${facts.modelFile}` : ''}`,
  ];
  const data = { digest: facts.pulled.digest, kind: isIndex ? (facts.hasModelCar ? 'modelcar-index' : 'index') : 'model-manifest', modelManifest: view.descriptor.digest, images: view.images.map((i) => i.digest), ...(facts.modelName ? { model: facts.modelName } : {}), ...(facts.format ? { format: facts.format } : {}), copy: opened.where };
  const summary = `${opened.display.replace(/@.*$/, '')}@${facts.pulled.digest} is a ${what}`;
  // A tag moves: the cluster may run something else by the next pull.
  if (!input.image.digest) return broken('artifact', { status: 'failed', code: 'TRACE_NOT_PINNED' }, `${input.storageUri} names a tag, not a digest: what the cluster runs can change on the next pull (it resolves to ${facts.pulled.digest} now); pin it as oci://HOST/REPO@sha256:… (modelship handoff writes it so)`, details, data);
  const annotated = input.inferenceService?.digestAnnotation;
  if (annotated && annotated !== facts.pulled.digest) {
    return broken('artifact', { status: 'failed', code: 'TRACE_DIGEST_DISAGREES' }, `the InferenceService's annotation modelship.dev/digest says ${annotated}, but its storageUri pins ${facts.pulled.digest}: the storageUri was changed by hand after the hand-off`, details, data);
  }
  return link('artifact', summary, details, data);
}

async function registryLink(opts: TraceOptions, digest: string): Promise<TraceLink> {
  const labelled = opts.input.inferenceService?.registry.modelVersionId;
  let found: { registry: string; records: DigestRecord[] };
  try {
    found = await opts.lookUp(digest, labelled);
  } catch (err) {
    return fromError('registry-record', err, 'the model registry could not be read');
  }
  const { registry, records } = found;
  if (!records.length) {
    const why = labelled
      ? `the InferenceService's label names model version ${labelled}, which ${registry} does not have`
      : `no model version in ${registry} records ${digest}`;
    return broken('registry-record', { status: 'missing', code: 'TRACE_NOT_REGISTERED' }, `${why}: not registered; record it with "modelship register HOST/REPO@${digest}" (the hand-off records what it deploys)`, [], { registry });
  }
  const record = records[0]!;
  const running = opts.input.storageUri.replace(/^oci\+native:\/\//, 'oci://');
  const elsewhere = record.modelArtifact?.uri && record.modelArtifact.uri !== running ? [`the registry records it at ${record.modelArtifact.uri}: the same digest, pulled from another repository`] : [];
  const details = [...records.flatMap(recordLines), ...elsewhere];
  const data = { registry, records: records.map(recordJson) };
  if (record.recordedDigest !== digest) {
    return broken('registry-record', { status: 'failed', code: 'TRACE_REGISTRY_DISAGREES' }, `model version ${record.modelVersion.id} (${record.registeredModel.name} ${record.modelVersion.name}) that the InferenceService's label names records ${record.recordedDigest ?? 'no digest'}, not ${digest}`, details, data);
  }
  return link('registry-record', `${record.registeredModel.name} ${record.modelVersion.name} in ${registry}${records.length > 1 ? ` (and ${records.length - 1} more version${records.length > 2 ? 's' : ''})` : ''}`, details, data);
}

function recordLines(r: DigestRecord): string[] {
  const p = (key: string) => stringProperty(r.modelArtifact?.customProperties, key);
  const handoff = p('modelship.handoff');
  return [
    `registered model ${r.registeredModel.id} "${r.registeredModel.name}", version ${r.modelVersion.id} "${r.modelVersion.name}"${r.modelVersion.state ? ` (${r.modelVersion.state})` : ''}`,
    ...(r.modelArtifact ? [`model artifact ${r.modelArtifact.id} ${r.modelArtifact.uri ?? ''}${r.modelArtifact.modelFormatName ? ` (${r.modelArtifact.modelFormatName})` : ''}`] : ['no model artifact']),
    ...(handoff ? [`hand-off: ${handoff}${p('modelship.environment') ? ` to ${p('modelship.environment')}` : ''}`] : []),
  ];
}

function recordJson(r: DigestRecord): Record<string, unknown> {
  return {
    registeredModel: { id: r.registeredModel.id, name: r.registeredModel.name },
    modelVersion: { id: r.modelVersion.id, name: r.modelVersion.name, ...(r.modelVersion.state ? { state: r.modelVersion.state } : {}) },
    ...(r.modelArtifact ? { modelArtifact: { id: r.modelArtifact.id, uri: r.modelArtifact.uri, ...(r.modelArtifact.modelFormatName ? { modelFormatName: r.modelArtifact.modelFormatName } : {}) } } : {}),
    ...(r.recordedDigest ? { digest: r.recordedDigest } : {}),
  };
}

/** Which manifest a signature is on, in words. */
function subjectName(facts: ArtifactFacts, digest: string): string {
  const { view } = facts;
  if (digest === view.descriptor.digest) return 'model manifest';
  if (digest === view.resolved.digest) return facts.hasModelCar ? 'ModelCar index' : 'index';
  return 'image';
}

function describeSignature(b: Pick<BundleVerification, 'form' | 'role' | 'predicateType' | 'source'>): string {
  if (b.form === 'simple-signing') return `cosign simple signing (${b.source === 'referrer' ? 'referrer' : 'tag .sig'})`;
  return b.role === 'attestation' ? `attestation ${b.predicateType ?? '(unreadable)'}` : `${b.role} ${b.predicateType ?? ''}`.trim();
}

interface Judgement {
  link: TraceLink;
  /** The signatures checked under the trusted signer, for the SBOM and provenance attestations. */
  verification?: ArtifactVerification;
  /** The MOF minimum the cluster's policy records. */
  requireMof?: 1 | 2 | 3;
}

/** The artifact's MOF gate at a class (undefined: no gate), evaluated once per trace. */
type MofAt = (require: 1 | 2 | 3 | undefined) => Promise<MofVerdict>;

/** The signatures link under whichever policy was given. */
async function judge(opts: TraceOptions, opened: OpenedArtifactCopy, facts: ArtifactFacts, mofAt: MofAt): Promise<Judgement> {
  const policy = opts.policy;
  if (!policy) return { link: await unverifiedSignatures(opened.target, facts) };
  if (policy.kind === 'signer') {
    const verification = await verifyArtifact(opened.target, facts.pulled.digest, policy.policy);
    return { link: signaturesLink(facts, policy.source, verification, trustedName(policy.policy)), verification };
  }
  return clusterJudgement(policy, opts.input, opened, facts, mofAt);
}

/**
 * The admission policy's verdict on the digest the Pod names, as its controller gives it; the
 * signatures are listed as the policy's first covering signer sees them.
 */
async function clusterJudgement(policy: Extract<TracePolicy, { kind: 'cluster' }>, input: TraceInput, opened: OpenedArtifactCopy, facts: ArtifactFacts, mofAt: MofAt): Promise<Judgement> {
  const repository = `${input.image.registry}/${input.image.repository}`;
  const digest = facts.pulled.digest;
  const covering = rulesCovering(policy.set, `${repository}@${digest}`);
  const minima = covering.map((r) => r.mofMinimum).filter((m): m is 1 | 2 | 3 => m !== undefined).sort();
  const requireMof = minima[0];
  let verdict: ClusterPolicyVerdict;
  let verification: ArtifactVerification | undefined;
  let trusted: string | undefined;
  try {
    const verifications = new Map<string, Promise<ArtifactVerification>>();
    verdict = await evaluateClusterPolicy({ target: opened.target, digest, repository, verifications, ...(policy.trustedRoot !== undefined ? { trustedRoot: policy.trustedRoot } : {}), mof: mofAt }, policy.set);
    const rule = covering[0];
    const signer = rule?.signerSets[0]?.signers[0];
    if (rule && signer) {
      const signerPolicy = verificationPolicyOf(signer, rule, policy.trustedRoot);
      trusted = trustedName(signerPolicy);
      // The policy's verdict already verified as this signer: list those results, without verifying again.
      verification = await (verifications.get(signerKey(signer)) ?? verifyArtifact(opened.target, digest, signerPolicy));
    }
  } catch (err) {
    return { link: fromError('signatures', err, `the admission policy ${policy.source} could not be applied`) };
  }
  const ruleLines = verdict.rules.map((r) => `${r.ok ? 'ok  ' : 'FAIL'} ${r.controller} ${r.policy}${r.rule ? ` rule ${r.rule}` : ''} (${r.file})${r.ok ? `: admits it${r.referrer ? `, signature ${r.referrer}` : ''}` : `: ${r.reason}`}`);
  const listed = verification ? grouped(signatureLines(facts, verification, trusted)) : [];
  const data = { policy: policy.source, admission: { covered: verdict.covered, rules: verdict.rules }, ...(verification ? { verified: verification.ok, signatures: signatureData(verification) } : {}) };
  const signed = (verification?.bundles.length ?? 1) > 0;
  // The MOF minimum is the mof link's to judge; here only the signature rules count.
  const admitted = verdict.covered && verdict.rules.every((r) => r.ok);
  const details = [...ruleLines, ...listed];
  if (!signed) return { link: broken('signatures', { status: 'missing', code: 'TRACE_UNSIGNED' }, `unsigned: no signature refers to ${digest} or the manifests it lists, so ${policy.source} refuses it`, details, data), ...(requireMof ? { requireMof } : {}) };
  if (!admitted) {
    const reason = verdict.reason ?? 'the policy refuses it';
    return { link: broken('signatures', { status: 'failed', code: verdict.code === 'POLICY_NOT_COVERED' ? 'POLICY_NOT_COVERED' : 'POLICY_DENIED' }, `the cluster's admission policy refuses it: ${reason}`, details, data), ...(verification ? { verification } : {}), ...(requireMof ? { requireMof } : {}) };
  }
  if (verification && !verification.ok) {
    return { link: broken('signatures', { status: 'failed', code: 'VERIFY_FAILED' }, `admitted by ${policy.source}, but the signatures do not verify as "modelship verify" checks them: ${verification.reason}`, details, data), verification, ...(requireMof ? { requireMof } : {}) };
  }
  const names = verdict.rules.map((r) => `${r.controller} ${r.policy}`).join(', ');
  return { link: link('signatures', `admitted by the cluster's policy (${names} in ${policy.source})`, details, data), ...(verification ? { verification } : {}), ...(requireMof ? { requireMof } : {}) };
}

/** Whom a policy trusts, in the words a bundle names its signer (a cosign simple signature names none). */
function trustedName(policy: VerificationPolicy): string {
  switch (policy.kind) {
    case 'key':
      return `key ${publicKeyHint(policy.publicKey)}`;
    case 'keyless':
      return `certificate ${policy.identity.source} from ${policy.issuer}`;
    case 'certificate':
      return 'a certificate from the given CA';
    default:
      return policy satisfies never;
  }
}

function signatureLines(facts: ArtifactFacts, verification: ArtifactVerification, trusted: string | undefined): string[] {
  return verification.bundles.map((b) => {
    const signer = b.signer ?? (b.trusted ? trusted : undefined);
    const who = b.trusted ? `signed by ${signer ? shortSigner(signer) : 'the trusted signer'}` : `${b.signer ? `signed by ${shortSigner(b.signer)}, ` : ''}not trusted: ${b.reason ?? 'unreadable'}`;
    return `${b.ok ? 'ok  ' : 'FAIL'} ${describeSignature(b)} on the ${subjectName(facts, b.subject)}: ${who}${b.ok || !b.trusted ? '' : `: ${b.reason}`}`;
  });
}

function signatureData(verification: ArtifactVerification): Record<string, unknown>[] {
  return verification.bundles.map((b) => ({ referrer: b.referrer, subject: b.subject, role: b.role, form: b.form ?? 'sigstore-bundle', ...(b.predicateType ? { predicateType: b.predicateType } : {}), ...(b.signer ? { signer: b.signer } : {}), trusted: b.trusted, ok: b.ok, ...(b.reason ? { reason: b.reason } : {}) }));
}

/** A key hint is 64 hex digits; 16 tell keys apart in a tree (--json keeps it whole). */
function shortSigner(signer: string): string {
  return signer.replace(/^key ([0-9a-f]{16})[0-9a-f]{48}$/, 'key $1…');
}

/** Identical lines once, with how many times they occur (a model signed twice lists each bundle twice). */
function grouped(lines: string[]): string[] {
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts].map(([l, n]) => (n > 1 ? `${l} (×${n})` : l));
}

function signaturesLink(facts: ArtifactFacts, policySource: string, verification: ArtifactVerification, trusted: string): TraceLink {
  const lines = grouped(signatureLines(facts, verification, trusted));
  const data = { policy: policySource, verified: verification.ok, signatures: signatureData(verification) };
  if (verification.ok) {
    const count = verification.bundles.filter((b) => b.trusted && b.ok).length;
    return link('signatures', `${count} signature${count === 1 ? '' : 's'} verify against ${policySource}`, lines, data);
  }
  if (!verification.bundles.length) {
    return broken('signatures', { status: 'missing', code: 'TRACE_UNSIGNED' }, `unsigned: no signature refers to ${facts.pulled.digest} or the manifests it lists; sign it with "modelship sign" (a manifest changed after signing has a new digest, so older signatures do not apply)`, lines, data);
  }
  return broken('signatures', { status: 'failed', code: 'VERIFY_FAILED' }, `does not verify against ${policySource}: ${verification.reason}`, lines, data);
}

/** Without a policy: who each signature says signed, and that nothing was checked. */
async function unverifiedSignatures(target: ReadOnlyTarget, facts: ArtifactFacts): Promise<TraceLink> {
  const lines: string[] = [];
  const signatures: Record<string, unknown>[] = [];
  for (const subject of subjectsOf(facts)) {
    for (const b of await findBundles(target, subject)) {
      const signer = bundleSigner(b);
      const predicateType = b.declaredPredicateType;
      lines.push(`?    sigstore bundle ${predicateType ?? '(unreadable)'} on the ${subjectName(facts, subject.digest)}${signer ? `: says ${shortSigner(signer)}` : ''}`);
      signatures.push({ referrer: b.referrer.digest, subject: subject.digest, form: 'sigstore-bundle', ...(predicateType ? { predicateType } : {}), ...(signer ? { signer } : {}) });
    }
    for (const s of await findSimpleSignatures(target, subject)) {
      lines.push(`?    cosign simple signing (${s.source === 'referrer' ? 'referrer' : 'tag .sig'}) on the ${subjectName(facts, subject.digest)}`);
      signatures.push({ referrer: s.image.digest, subject: subject.digest, form: 'simple-signing' });
    }
  }
  if (!signatures.length) {
    return broken('signatures', { status: 'missing', code: 'TRACE_UNSIGNED' }, `unsigned: no signature refers to ${facts.pulled.digest} or the manifests it lists; sign it with "modelship sign"`, [], { signatures });
  }
  return broken('signatures', { status: 'unverified', code: 'TRACE_UNVERIFIED' }, `${signatures.length} signature${signatures.length === 1 ? '' : 's'} found, none checked: give the cluster's policy with --policy GITOPS_DIR, or the signer with --key PUB.pem or --cert-identity REGEX --cert-oidc-issuer URL --trusted-root FILE`, grouped(lines), { signatures });
}

function subjectsOf(facts: ArtifactFacts): Descriptor[] {
  const { view } = facts;
  return view.resolved.digest === view.descriptor.digest ? [view.descriptor] : [view.descriptor, view.resolved, ...view.images];
}

/** A trusted attestation of this predicate type over the model manifest. */
function attested(verification: ArtifactVerification | undefined, facts: ArtifactFacts, predicateTypes: string[]): boolean | undefined {
  if (!verification) return undefined;
  return verification.bundles.some((b) => b.subject === facts.view.descriptor.digest && b.trusted && b.ok && predicateTypes.includes(b.predicateType ?? ''));
}

async function sbomLink(target: ReadOnlyTarget, facts: ArtifactFacts, verification: ArtifactVerification | undefined): Promise<TraceLink> {
  let lines: string[];
  try {
    lines = await sbomSummary(target, facts.view.descriptor);
  } catch (err) {
    return fromError('sbom', err, 'the SBOM referrers could not be read');
  }
  if (!lines.length) return broken('sbom', { status: 'missing', code: 'TRACE_NO_SBOM' }, `no SBOM is attached to the model manifest ${facts.view.descriptor.digest}; attach one with "modelship sbom REF --attach"`);
  const isAttested = attested(verification, facts, [CYCLONEDX_PREDICATE_TYPE, SPDX_PREDICATE_TYPE]);
  const note = isAttested === undefined ? '' : isAttested ? ', attested by the trusted signer' : ', not attested by the trusted signer';
  return link('sbom', `${lines.length} SBOM${lines.length === 1 ? '' : 's'} attached${note}`, lines, { sboms: lines, ...(isAttested === undefined ? {} : { attested: isAttested }) });
}

const MOF_CLASS_ANNOTATION = 'dev.modelship.mof.class';

async function mofLink(opened: OpenedArtifactCopy, facts: ArtifactFacts, require: 1 | 2 | 3 | undefined, mofAt: MofAt): Promise<TraceLink> {
  try {
    const reports = await referrers(opened.target, facts.view.descriptor, MOF_REPORT_ARTIFACT_TYPE);
    const verdict = await mofAt(require);
    const details = [
      ...reports.map((r) => `MOF report ${r.digest}${r.annotations?.[MOF_CLASS_ANNOTATION] ? ` says Class ${r.annotations[MOF_CLASS_ANNOTATION]}` : ''}`),
      ...(verdict.missing?.length ? [`missing for Class ${require}: ${verdict.missing.join(', ')}`] : []),
    ];
    const data = { class: verdict.class, label: verdict.label, reports: reports.map((r) => r.digest), ...(require ? { require, passed: verdict.passed } : {}) };
    if (verdict.passed === false) return broken('mof', { status: 'failed', code: 'GATE_FAILED' }, `${verdict.label}, below the Class ${require} required`, details, data);
    if (!reports.length) return broken('mof', { status: 'missing', code: 'TRACE_NO_MOF_REPORT' }, `${verdict.label} from the artifact, but no MOF report is attached; attach one with "modelship mof REF --attach"`, details, data);
    return link('mof', `${verdict.label}${require ? ` (Class ${require} required: met)` : ''}`, details, data);
  } catch (err) {
    return fromError('mof', err, 'the MOF class could not be read');
  }
}

interface ProvenanceSource {
  uri?: string;
  commit?: string;
  builder?: string;
}

async function sourceLink(target: ReadOnlyTarget, facts: ArtifactFacts, verification: ArtifactVerification | undefined): Promise<TraceLink> {
  const annotations = facts.view.manifest.annotations ?? {};
  const hub = annotations[ANNOTATION_HF_SOURCE];
  // The manifest's annotations are covered by the manifest digest, which the signatures check.
  if (hub?.startsWith('hf://')) {
    return link('source', `Hugging Face ${hub}`, [`imported from ${hub}${annotations[ANNOTATION_OCI_SOURCE] ? ` (${annotations[ANNOTATION_OCI_SOURCE]})` : ''}`], { kind: 'huggingface', uri: hub, ...(annotations[ANNOTATION_OCI_REVISION] ? { commit: annotations[ANNOTATION_OCI_REVISION] } : {}) });
  }
  let provenances: FoundBundle[];
  try {
    provenances = (await findBundles(target, facts.view.descriptor)).filter((b) => b.declaredPredicateType === SLSA_PROVENANCE_V1);
  } catch (err) {
    return fromError('source', err, 'the provenance referrers could not be read');
  }
  // Several builds may have attested one digest (a laptop and CI, signed by different keys): the trusted one names the source.
  const candidates = provenances.flatMap((found) => {
    const source = provenanceSource(found);
    return source?.commit ? [{ found, source: { ...source, commit: source.commit }, checked: verification?.bundles.find((b) => b.referrer === found.referrer.digest) }] : [];
  });
  const chosen = candidates.find((c) => c.checked?.trusted && c.checked.ok) ?? candidates[0];
  if (chosen) {
    const { found, source, checked } = chosen;
    const others = candidates.length - 1;
    const details = [`SLSA provenance ${found.referrer.digest}`, `git commit ${source.commit}${source.uri ? ` of ${source.uri}` : ''}`, ...(source.builder ? [`built by ${source.builder}`] : []), ...(others ? [`${others} more SLSA provenance${others > 1 ? 's' : ''} on this digest`] : [])];
    const data = { kind: 'git', ...(source.uri ? { uri: source.uri } : {}), commit: source.commit, provenance: found.referrer.digest, ...(source.builder ? { builder: source.builder } : {}) };
    if (!verification) return broken('source', { status: 'unverified', code: 'TRACE_UNVERIFIED' }, `git commit ${source.commit.slice(0, 12)} according to SLSA provenance whose signature was not checked (give --key or --cert-identity)`, details, data);
    if (!checked?.trusted || !checked.ok) return broken('source', { status: 'failed', code: 'VERIFY_FAILED' }, `the SLSA provenance ${found.referrer.digest} does not verify: ${checked?.reason ?? 'not checked'}`, details, data);
    return link('source', `git commit ${source.commit.slice(0, 12)}${source.uri ? ` of ${source.uri}` : ''} (SLSA provenance, verified)`, details, { ...data, verified: true });
  }
  const ociSource = annotations[ANNOTATION_OCI_SOURCE];
  const revision = annotations[ANNOTATION_OCI_REVISION];
  if (ociSource && revision) return link('source', `${ociSource} at ${revision}`, [`manifest annotations ${ANNOTATION_OCI_SOURCE} and ${ANNOTATION_OCI_REVISION}`], { kind: 'oci-annotations', uri: ociSource, commit: revision });
  return broken('source', { status: 'missing', code: 'TRACE_NO_SOURCE' }, `no source recorded: no hf:// import annotation, no SLSA provenance with a git commit, no ${ANNOTATION_OCI_REVISION} annotation; sign with "modelship sign REF --provenance --project DIR" from the project's git checkout`);
}

/** The git commit (and repository) the pack step's SLSA provenance names (sign/slsa.ts writes it). */
function provenanceSource(found: FoundBundle): ProvenanceSource | undefined {
  if (!found.bytes) return undefined;
  try {
    const bundle = parseBundle(found.bytes, `referrer ${found.referrer.digest}`);
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')) as {
      predicate?: { buildDefinition?: { resolvedDependencies?: { uri?: string; digest?: Record<string, string> }[]; externalParameters?: { source?: { uri?: string; commit?: string } } }; runDetails?: { builder?: { id?: string } } };
    };
    const definition = statement.predicate?.buildDefinition;
    const dependency = definition?.resolvedDependencies?.find((d) => d.digest?.['gitCommit']);
    const external = definition?.externalParameters?.source;
    const commit = dependency?.digest?.['gitCommit'] ?? external?.commit;
    const uri = dependency?.uri?.replace(/^git\+/, '') ?? external?.uri;
    const builder = statement.predicate?.runDetails?.builder?.id;
    return { ...(commit ? { commit } : {}), ...(uri ? { uri } : {}), ...(builder ? { builder } : {}) };
  } catch {
    return undefined;
  }
}
