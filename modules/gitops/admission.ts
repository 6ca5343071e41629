/**
 * The admission policy that refuses the model image unless its signature verifies against the
 * identity that signed it, written for the releases in the compatibility matrix (compat.ts):
 * - Kyverno `verifyImages`: `type: SigstoreBundle` (the cosign v3 bundle referrers) from 1.19, the
 *   only release that verifies a key-signed bundle; `type: Cosign` (cosign's `sha256-<hex>.sig`
 *   signature) for 1.13–1.18.
 * - sigstore policy-controller `ClusterImagePolicy`: cosign's signature form, never
 *   `signatureFormat: bundle`, which it refuses with a key and reads only for attestations.
 */
import type { CompatPlan } from './compat.js';
import { imageReference, type AdmissionPolicy, type ModelDeployment, type SignerIdentity } from './model-ref.js';
import { escapeRegExp } from '../text/regexp.js';
import { MOF_MINIMUM_ANNOTATION } from './cluster-policy.js';

type Obj = Record<string, unknown>;

export const DEFAULT_FULCIO_URL = 'https://fulcio.sigstore.dev';
export const DEFAULT_REKOR_URL = 'https://rekor.sigstore.dev';
/** The namespace label without which policy-controller's webhooks skip every Pod (config/500-webhook-configuration.yaml). */
export const POLICY_CONTROLLER_INCLUDE_LABEL = 'policy.sigstore.dev/include';
/** Argo CD applies a lower wave first and waits for it to be healthy: the policy before the model. */
export const POLICY_SYNC_WAVE = '-1';

/**
 * policy-controller globs (pkg/apis/glob: `*` is `[^/]*`, matched against the reference's full
 * name): this repository by digest or by tag, and no repository that merely starts with its name.
 */
export function imagePatterns(d: ModelDeployment): string[] {
  const repo = `${d.image.registry}/${d.image.repository}`;
  return [`${repo}@*`, `${repo}:*`];
}

/** Kyverno wildcards: this repository by tag or by digest, and no repository that merely starts with its name. */
function kyvernoImageReferences(d: ModelDeployment): string[] {
  const repo = `${d.image.registry}/${d.image.repository}`;
  return [`${repo}:*`, `${repo}@*`];
}

/** The policy's name: one per environment, so two environments in one cluster never overwrite each other's. */
export function policyName(d: ModelDeployment, env: string): string {
  return `${d.name}-${env}-signed-model`;
}

export function admissionPolicy(kind: AdmissionPolicy, d: ModelDeployment, identity: SignerIdentity, plan: CompatPlan, env: string, mofMinimum?: 1 | 2 | 3): Obj {
  imageReference(d.image);
  const policy = kind === 'kyverno' ? kyvernoPolicy(d, identity, plan, env) : clusterImagePolicy(d, identity, env);
  // The MOF class the hand-off's gate required, so `serve|check|ship --policy` can apply it too (cluster-policy.ts).
  if (mofMinimum !== undefined) (policy['metadata'] as { annotations: Record<string, string> }).annotations[MOF_MINIMUM_ANNOTATION] = String(mofMinimum);
  return policy;
}

const POD_IMAGE_EXTRACTORS = [
  { name: 'containers', path: '/spec/containers/*', value: 'image' },
  { name: 'initContainers', path: '/spec/initContainers/*', value: 'image' },
  { name: 'ephemeralContainers', path: '/spec/ephemeralContainers/*', value: 'image' },
  { name: 'imageVolumes', path: '/spec/volumes/*/image', value: 'reference' },
];

function kyvernoAttestor(identity: SignerIdentity): Obj {
  if (identity.kind === 'key') {
    // Key signatures carry no transparency-log entry or SCT unless uploaded: do not demand them.
    return { keys: { publicKeys: identity.publicKeyPem, rekor: { ignoreTlog: true }, ctlog: { ignoreSCT: true } } };
  }
  return { keyless: { issuer: identity.issuer, subjectRegExp: identity.subjectRegExp, rekor: { url: DEFAULT_REKOR_URL } } };
}

function kyvernoPolicy(d: ModelDeployment, identity: SignerIdentity, plan: CompatPlan, env: string): Obj {
  const form = plan.kyvernoType === 'SigstoreBundle' ? 'Sigstore bundle' : 'cosign signature';
  return {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: {
      name: policyName(d, env),
      annotations: {
        'policies.kyverno.io/description': `Pods may run ${d.image.registry}/${d.image.repository} only when its ${form} verifies against the identity that signed it.`,
        // The oldest Kyverno that runs this policy as written (SigstoreBundle with keys: 1.19).
        'policies.kyverno.io/minversion': plan.kyvernoMinimum,
        'kyverno.io/kyverno-version': plan.kyvernoMinimum,
        'argocd.argoproj.io/sync-wave': POLICY_SYNC_WAVE,
      },
    },
    spec: {
      background: false,
      webhookTimeoutSeconds: 30,
      rules: [
        {
          name: 'verify-model-signature',
          match: { any: [{ resources: { kinds: ['Pod'] } }] },
          // A ModelCar runs as a sidecar container; an image volume is listed under spec.volumes (custom extractors replace the defaults, so containers are listed again).
          ...(d.mount === 'image-volume' ? { imageExtractors: { Pod: POD_IMAGE_EXTRACTORS } } : {}),
          verifyImages: [
            {
              imageReferences: kyvernoImageReferences(d),
              type: plan.kyvernoType,
              failureAction: 'Enforce',
              required: true,
              verifyDigest: true,
              mutateDigest: false,
              attestors: [{ count: 1, entries: [kyvernoAttestor(identity)] }],
            },
          ],
        },
      ],
    },
  };
}

function clusterImagePolicy(d: ModelDeployment, identity: SignerIdentity, env: string): Obj {
  // No signatureFormat: policy-controller v0.15.1 pkg/webhook/validator.go refuses `key` with
  // `bundle`, and its image-signature check reads cosign's `.sig` signature, not bundles.
  const authority: Obj = identity.kind === 'key'
    ? { name: 'modelship-signer', key: { data: identity.publicKeyPem, hashAlgorithm: 'sha256' } }
    : {
        name: 'modelship-signer',
        keyless: { url: DEFAULT_FULCIO_URL, identities: [{ issuerRegExp: `^${escapeRegExp(identity.issuer)}$`, subjectRegExp: identity.subjectRegExp }] },
        ctlog: { url: DEFAULT_REKOR_URL },
      };
  return {
    apiVersion: 'policy.sigstore.dev/v1beta1',
    kind: 'ClusterImagePolicy',
    metadata: { name: policyName(d, env), annotations: { 'argocd.argoproj.io/sync-wave': POLICY_SYNC_WAVE } },
    spec: { images: imagePatterns(d).map((glob) => ({ glob })), authorities: [authority] },
  };
}
