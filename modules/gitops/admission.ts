/**
 * The admission policy that refuses the model image unless its signature verifies against the
 * identity that signed it: Kyverno `verifyImages` (SigstoreBundle: the cosign v3 bundle referrers
 * `modelship sign` attaches) or sigstore policy-controller (signatureFormat: bundle).
 */
import { imageReference, type AdmissionPolicy, type ModelDeployment, type SignerIdentity } from './model-ref.js';
import { escapeRegExp } from '../text/regexp.js';

type Obj = Record<string, unknown>;

export const DEFAULT_FULCIO_URL = 'https://fulcio.sigstore.dev';
export const DEFAULT_REKOR_URL = 'https://rekor.sigstore.dev';

/** Every image of the model's repository, whatever digest: a new unsigned push is refused too. */
export function imagePattern(d: ModelDeployment): string {
  return `${d.image.registry}/${d.image.repository}*`;
}

/** Kyverno wildcards: this repository by tag or by digest, and no repository that merely starts with its name. */
function kyvernoImageReferences(d: ModelDeployment): string[] {
  const repo = `${d.image.registry}/${d.image.repository}`;
  return [`${repo}:*`, `${repo}@*`];
}

export function admissionPolicy(kind: AdmissionPolicy, d: ModelDeployment, identity: SignerIdentity): Obj {
  imageReference(d.image);
  return kind === 'kyverno' ? kyvernoPolicy(d, identity) : clusterImagePolicy(d, identity);
}

const POD_IMAGE_EXTRACTORS = [
  { name: 'containers', path: '/spec/containers/*', value: 'image' },
  { name: 'initContainers', path: '/spec/initContainers/*', value: 'image' },
  { name: 'ephemeralContainers', path: '/spec/ephemeralContainers/*', value: 'image' },
  { name: 'imageVolumes', path: '/spec/volumes/*/image', value: 'reference' },
];

function kyvernoAttestor(identity: SignerIdentity): Obj {
  if (identity.kind === 'key') {
    // Key-signed bundles carry no transparency-log entry or SCT unless uploaded: do not demand them.
    return { keys: { publicKeys: identity.publicKeyPem, rekor: { ignoreTlog: true }, ctlog: { ignoreSCT: true } } };
  }
  return { keyless: { issuer: identity.issuer, subjectRegExp: identity.subjectRegExp, rekor: { url: DEFAULT_REKOR_URL } } };
}

function kyvernoPolicy(d: ModelDeployment, identity: SignerIdentity): Obj {
  return {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: {
      name: `${d.name}-signed-model`,
      annotations: { 'policies.kyverno.io/description': `Pods may run ${d.image.registry}/${d.image.repository} only when its Sigstore bundle verifies against the identity that signed it.` },
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
              type: 'SigstoreBundle',
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

function clusterImagePolicy(d: ModelDeployment, identity: SignerIdentity): Obj {
  const authority: Obj = identity.kind === 'key'
    ? { name: 'modelship-signer', key: { data: identity.publicKeyPem, hashAlgorithm: 'sha256' }, signatureFormat: 'bundle' }
    : {
        name: 'modelship-signer',
        keyless: { url: DEFAULT_FULCIO_URL, identities: [{ issuerRegExp: `^${escapeRegExp(identity.issuer)}$`, subjectRegExp: identity.subjectRegExp }] },
        ctlog: { url: DEFAULT_REKOR_URL },
        signatureFormat: 'bundle',
      };
  return {
    apiVersion: 'policy.sigstore.dev/v1beta1',
    kind: 'ClusterImagePolicy',
    metadata: { name: `${d.name}-signed-model` },
    spec: { images: [{ glob: imagePattern(d) }], authorities: [authority] },
  };
}
