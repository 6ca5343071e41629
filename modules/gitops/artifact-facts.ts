/**
 * What a hand-off reads from the artifact in the registry, without its weights: the digest the
 * cluster pulls (the ModelCar index when there is one), the model's format and file, and the
 * documents attached to it (SBOM, MOF report) for the pull request.
 */
import { modelNameOf } from '../sign/artifact/index.js';
import { readReferrerDocument, type ArtifactVerification } from '../sign/artifact/index.js';
import { COSIGN_SIGN_PREDICATE_TYPE } from '../sign/artifact/index.js';
import { ANNOTATION_FILEPATH } from '../modelpack/mediatypes.js';
import { readArtifact, type ModelArtifactView } from '../modelpack/read.js';
import { fetchManifest } from '../oci/manifest.js';
import { referrers } from '../oci/referrers.js';
import type { Descriptor, ReadOnlyTarget } from '../oci/types.js';
import { weightFormat } from '../project/index.js';
import { SBOM_ARTIFACT_TYPES } from '../sbom/index.js';
import { formatRelease, type CompatPlan } from './compat.js';
import type { AdmissionPolicy, Delivery } from './model-ref.js';

export interface ArtifactFacts {
  /** What the tag or digest resolves to: the index for a ModelCar. */
  pulled: Descriptor;
  /** The index lists a runnable image (the ModelCar view) beside the ModelPack manifest. */
  hasModelCar: boolean;
  /** The CPU architectures (linux) the ModelCar's images are for: a node of another cannot pull it. */
  architectures: string[];
  view: ModelArtifactView;
  modelName?: string;
  format?: string;
  /** The weight file the runtime loads, relative to the model folder. */
  modelFile?: string;
  /** Media type of the layer Flux fetches to check the signature: the smallest, never the weights. */
  probeLayerMediaType?: string;
}

export async function readArtifactFacts(target: ReadOnlyTarget, selector: string, repository: string): Promise<ArtifactFacts> {
  const pulled = await target.resolve(selector);
  const top = await fetchManifest(target, pulled, `${target.location} (${selector})`);
  const platforms = 'manifests' in top ? top.manifests.flatMap((m) => (m.platform ? [m.platform] : [])) : [];
  const hasModelCar = platforms.length > 0;
  const architectures = [...new Set(platforms.filter((p) => p.os === 'linux').map((p) => p.architecture))];
  const view = await readArtifact(target, pulled.digest);
  const weights = view.files.filter((f) => f.kind === 'weight').map((f) => {
    const path = mountedPath(f.layer.annotations?.[ANNOTATION_FILEPATH] ?? f.path);
    return { path, format: weightFormat(path) };
  }).filter((w) => w.format);
  const configFormat = (view.config as { config?: { format?: unknown } } | undefined)?.config?.format;
  const format = typeof configFormat === 'string' && configFormat ? configFormat.toLowerCase() : weights[0]?.format;
  const modelFile = weights.find((w) => w.format === format)?.path;
  const modelName = modelNameOf(view.config, repository);
  return {
    pulled, hasModelCar, architectures, view,
    ...(modelName ? { modelName } : {}),
    ...(format ? { format } : {}),
    ...(modelFile ? { modelFile } : {}),
    ...probeLayer(view),
  };
}

/** Where a packed file appears under /mnt/models: the ModelCar and image-volume views hold it under models/. */
function mountedPath(packed: string): string {
  return packed.replace(/^\.?\/+/, '').replace(/^models\//, '');
}

function probeLayer(view: ModelArtifactView): { probeLayerMediaType?: string } {
  const firstByType = new Map<string, number>();
  for (const l of view.manifest.layers) if (!firstByType.has(l.mediaType)) firstByType.set(l.mediaType, l.size);
  const smallest = [...firstByType].sort((a, b) => a[1] - b[1])[0];
  return smallest ? { probeLayerMediaType: smallest[0] } : {};
}

/** The signature forms cosign-style verifiers read: the cosign v3 bundle referrer, or the `sha256-<hex>.sig` simple signature. */
export type SignatureForm = 'sigstore-bundle' | 'simple-signing';

/** A controller the hand-off writes for that verifies a signature: the digest it looks at and the form it reads. */
export interface SignatureConsumer {
  /** e.g. "policy-controller", "Kyverno 1.18 (type: Cosign)", "Flux 2.7 OCIRepository". */
  consumer: string;
  digest: string;
  form: SignatureForm;
}

/**
 * Who verifies what, per the compatibility plan: the admission policy checks the digest the Pod
 * names (storageUri's, the ModelCar index), Flux the digest its OCIRepository pins.
 */
export function signatureConsumers(input: { plan: CompatPlan; policy: AdmissionPolicy; delivery: Delivery; podDigest: string; fluxDigest: string }): SignatureConsumer[] {
  const { plan, podDigest } = input;
  const kyverno = formatRelease(plan.versions.kyverno);
  const flux = formatRelease(plan.versions.flux);
  const out: SignatureConsumer[] = [
    input.policy === 'policy-controller'
      // policy-controller v0.15.1 pkg/webhook/validator.go: a key authority reads only cosign's simple signature.
      ? { consumer: 'policy-controller ClusterImagePolicy', digest: podDigest, form: 'simple-signing' }
      // Kyverno: SigstoreBundle with keys from 1.19 (pkg/image/verifiers/cpol/cosign/sigstore.go), type: Cosign before.
      : { consumer: `Kyverno ${kyverno} (type: ${plan.kyvernoType})`, digest: podDigest, form: plan.kyvernoType === 'SigstoreBundle' ? 'sigstore-bundle' : 'simple-signing' },
  ];
  // source-controller reads the bundle from v1.8.0 (Flux 2.8, internal/oci/cosign/cosign.go); older ones only the .sig tag.
  if (input.delivery === 'flux') out.push({ consumer: `Flux ${flux} OCIRepository`, digest: input.fluxDigest, form: plan.fluxReadsBundles ? 'sigstore-bundle' : 'simple-signing' });
  return out;
}

export interface ConsumerCheck extends SignatureConsumer {
  ok: boolean;
  /** The referrer (bundle) or signature image (`.sig`) that verified. */
  referrer?: string;
}

export interface AdmissionCheck {
  /** The digest the admission controller sees on the Pod. */
  digest: string;
  ok: boolean;
  /** The referrer whose image signature the policy's identity verifies. */
  referrer?: string;
  /** Each verifier the hand-off writes for, and the signature it found. */
  consumers: ConsumerCheck[];
  reason?: string;
}

const FORM_NAMES: Record<SignatureForm, string> = {
  'sigstore-bundle': `the cosign v3 Sigstore bundle referrer (${COSIGN_SIGN_PREDICATE_TYPE})`,
  'simple-signing': "cosign's simple-signing signature (tag sha256-<hex>.sig or its OCI 1.1 referrer)",
};

/**
 * What each consumer will do: among the signatures verifyArtifact checked under the signer's
 * identity, an image signature over the consumer's digest in the form that consumer reads.
 */
export function checkAdmission(verified: ArtifactVerification, consumers: SignatureConsumer[]): AdmissionCheck {
  const checks: ConsumerCheck[] = consumers.map((c) => {
    const found = verified.bundles.find((b) => b.subject === c.digest && b.role === 'image-signature' && (b.form ?? 'sigstore-bundle') === c.form && b.trusted && b.ok);
    return { ...c, ok: found !== undefined, ...(found ? { referrer: found.referrer } : {}) };
  });
  const admission = checks[0]!;
  const failed = checks.find((c) => !c.ok);
  return {
    digest: admission.digest,
    ok: failed === undefined,
    ...(admission.referrer ? { referrer: admission.referrer } : {}),
    consumers: checks,
    ...(failed ? { reason: missingReason(failed, verified) } : {}),
  };
}

function missingReason(c: SignatureConsumer, verified: ArtifactVerification): string {
  const other = verified.bundles.find((b) => b.subject === c.digest && b.role === 'image-signature' && b.trusted && b.ok);
  const has = other ? `; it has only ${FORM_NAMES[other.form ?? 'sigstore-bundle']}` : '';
  const what = c.form === 'simple-signing'
    ? 'sign it again with "modelship sign REF --key …" (or keyless) without --no-simple-signing'
    : 'sign it again with "modelship sign REF --key …" (or keyless), which attaches the bundle';
  return `${c.consumer} verifies ${c.digest} and reads ${FORM_NAMES[c.form]}, which no signature by this signer provides${has}, so it would refuse the model; ${what}`;
}

/** One line per SBOM referrer: its format, digest and component count. */
export async function sbomSummary(target: ReadOnlyTarget, subject: Descriptor): Promise<string[]> {
  const lines: string[] = [];
  for (const [format, artifactType] of Object.entries(SBOM_ARTIFACT_TYPES)) {
    for (const referrer of await referrers(target, subject, artifactType)) {
      let count = '';
      try {
        const doc = JSON.parse(new TextDecoder().decode((await readReferrerDocument(target, referrer)).bytes)) as { components?: unknown[]; '@graph'?: unknown[] };
        const n = doc.components?.length ?? doc['@graph']?.length;
        if (n !== undefined) count = `, ${n} ${doc.components ? 'components' : 'elements'}`;
      } catch {
        count = ', unreadable';
      }
      lines.push(`${format} ${referrer.digest}${count}`);
    }
  }
  return lines;
}
