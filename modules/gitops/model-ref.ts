/**
 * What a hand-off deploys: the model image pinned by digest, its format, and the names the cluster
 * objects take. Checked before anything is built or written.
 */
import { ModelshipError } from '../errors/index.js';
import { isDigest } from '../oci/digest.js';
import { DNS_LABEL } from './crd-validate.js';

export type Mount = 'modelcar' | 'image-volume';
export type Delivery = 'flux' | 'argocd';
export type AdmissionPolicy = 'kyverno' | 'policy-controller';
export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The image the cluster pulls: for a ModelCar, the index (the digest the signatures are attached to). */
export interface PinnedImage {
  /** host[:port] */
  registry: string;
  repository: string;
  /** sha256:… */
  digest: string;
}

/** Who signed: the same identity goes into Flux's verify and the admission policy. */
export type SignerIdentity =
  | { kind: 'key'; publicKeyPem: string }
  | { kind: 'keyless'; subjectRegExp: string; issuer: string };

export interface ModelDeployment {
  /** Object name: a DNS label (InferenceService names become host names). */
  name: string;
  version: string;
  image: PinnedImage;
  /** ModelPack format of the weights, e.g. "gguf" or "safetensors". */
  format: string;
  /** The weight file the runtime loads, relative to /mnt/models (GGUF). */
  modelFile?: string;
  mount: Mount;
  /** GPUs per replica; 0 runs on CPU. */
  gpus: number;
  /** The one CPU architecture the model image is for (a single-platform ModelCar): its Pods go only to such nodes. */
  nodeArchitecture?: string;
  namespace: string;
  /** Ids from the model registry; they become the InferenceService's labels. */
  registry?: { registeredModelId: string; modelVersionId: string; modelArtifactId: string; url: string };
}

/** `oci://host/repo@sha256:…` (ModelCar) or `oci+native://…` (Kubernetes image volume). */
export function storageUri(image: PinnedImage, mount: Mount): string {
  assertPinned(image);
  return `${mount === 'modelcar' ? 'oci' : 'oci+native'}://${image.registry}/${image.repository}@${image.digest}`;
}

export function imageReference(image: PinnedImage): string {
  assertPinned(image);
  return `${image.registry}/${image.repository}@${image.digest}`;
}

/** A tag moves; the cluster must run exactly what was verified. */
export function assertPinned(image: PinnedImage): void {
  if (!isDigest(image.digest)) {
    throw new ModelshipError('GITOPS_DIGEST_REQUIRED', `${image.registry}/${image.repository} is not pinned by digest ("${image.digest}"): hand-off writes only HOST/REPO@sha256:<64 hex>; resolve the tag first`);
  }
}

export function assertDeploymentName(name: string, field = 'name'): void {
  if (name.length > 63 || !DNS_LABEL.test(name)) {
    throw new ModelshipError('GITOPS_INVALID_NAME', `${field} "${name}" is not a valid Kubernetes name: use at most 63 lower-case letters, digits and "-", starting with a letter and ending with a letter or digit (e.g. --name tiny-chat)`);
  }
}

/** A model or repository name turned into a DNS label, or undefined when nothing usable is left. */
export function toDeploymentName(raw: string): string | undefined {
  const name = raw.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+/, '').replace(/-+$/, '').slice(0, 63).replace(/-+$/, '');
  return name && DNS_LABEL.test(name) ? name : undefined;
}
