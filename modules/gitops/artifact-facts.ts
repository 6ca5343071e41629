/**
 * What a hand-off reads from the artifact in the registry, without its weights: the digest the
 * cluster pulls (the ModelCar index when there is one), the model's format and file, and the
 * documents attached to it (SBOM, MOF report) for the pull request.
 */
import { modelNameOf } from '../sign/artifact/index.js';
import { findBundles, readReferrerDocument } from '../sign/artifact/index.js';
import { COSIGN_SIGN_PREDICATE_TYPE } from '../sign/artifact/index.js';
import { verifyBundle, type VerificationPolicy } from '../sign/index.js';
import { ANNOTATION_FILEPATH } from '../modelpack/mediatypes.js';
import { readArtifact, type ModelArtifactView } from '../modelpack/read.js';
import { fetchManifest } from '../oci/manifest.js';
import { referrers } from '../oci/referrers.js';
import type { Descriptor, ReadOnlyTarget } from '../oci/types.js';
import { weightFormat } from '../project/index.js';
import { SBOM_ARTIFACT_TYPES } from '../sbom/index.js';

export interface ArtifactFacts {
  /** What the tag or digest resolves to: the index for a ModelCar. */
  pulled: Descriptor;
  /** The index lists a runnable image (the ModelCar view) beside the ModelPack manifest. */
  hasModelCar: boolean;
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
  const hasModelCar = 'manifests' in top && top.manifests.some((m) => m.platform !== undefined);
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
    pulled, hasModelCar, view,
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

export interface AdmissionCheck {
  /** The digest the admission controller sees on the Pod. */
  digest: string;
  ok: boolean;
  /** The referrer whose image signature the policy's identity verifies. */
  referrer?: string;
  reason?: string;
}

/**
 * What Kyverno or policy-controller will do at admission: find a cosign image signature among the
 * pulled digest's bundle referrers that the signer's identity verifies and whose subject is that digest.
 */
export async function checkAdmission(target: ReadOnlyTarget, pulled: Descriptor, policy: VerificationPolicy): Promise<AdmissionCheck> {
  const hex = pulled.digest.slice(pulled.digest.indexOf(':') + 1);
  const reasons: string[] = [];
  for (const found of await findBundles(target, pulled)) {
    if (!found.bytes) {
      reasons.push(found.problem ?? `referrer ${found.referrer.digest} holds no bundle`);
      continue;
    }
    const verified = verifyBundle(found.bytes, policy, `the bundle in referrer ${found.referrer.digest}`);
    const statement = verified.statement;
    const signer = verified.checks.filter((c) => c.name !== 'predicate' && c.name !== 'subject-digest');
    if (!statement || !signer.every((c) => c.ok)) {
      reasons.push(signer.find((c) => !c.ok)?.detail ?? `referrer ${found.referrer.digest} does not verify`);
      continue;
    }
    if (statement.predicateType !== COSIGN_SIGN_PREDICATE_TYPE) continue;
    if (statement.subject.some((s) => s.digest['sha256'] === hex)) return { digest: pulled.digest, ok: true, referrer: found.referrer.digest };
    reasons.push(`the image signature in ${found.referrer.digest} is about another digest`);
  }
  return {
    digest: pulled.digest,
    ok: false,
    reason: `no cosign image signature (${COSIGN_SIGN_PREDICATE_TYPE}) by this signer is attached to ${pulled.digest}, the digest the cluster pulls${pulled.mediaType.includes('index') ? ' (the ModelCar index)' : ''}, so the admission policy would refuse the Pod${reasons.length ? `: ${reasons[0]}` : ''}; sign that digest with "modelship sign"`,
  };
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
