/**
 * Referrers: manifests whose `subject` names another. Read through the referrers API where a target
 * has one, else through the referrers tag schema `<alg>-<hex>` (distribution-spec), which we maintain.
 */
import { ModelshipError, hasCode } from '../errors/index.js';
import { jsonContent, referrersTagOf } from './digest.js';
import { encodeManifest, fetchManifest } from './manifest.js';
import {
  EMPTY_DESCRIPTOR,
  MEDIA_TYPE,
  isReferrerLister,
  type Content,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  type ReadOnlyTarget,
  type Storage,
  type Target,
} from './types.js';

/** The fallback tag's index, or an empty one when the tag does not exist yet. */
async function readReferrersIndex(target: ReadOnlyTarget, subject: Descriptor): Promise<ImageIndex> {
  const tag = referrersTagOf(subject.digest);
  let desc: Descriptor;
  try {
    desc = await target.resolve(tag);
  } catch (err) {
    if (hasCode(err, 'OCI_NOT_FOUND')) return { schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests: [] };
    throw err;
  }
  const parsed = await fetchManifest(target, desc, `${target.location} (referrers tag ${tag})`);
  if (!('manifests' in parsed)) return { schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests: [] };
  return parsed;
}

/** Referrers of `subject`, filtered by artifactType when given. */
export async function referrers(target: ReadOnlyTarget, subject: Descriptor, artifactType?: string): Promise<Descriptor[]> {
  if (isReferrerLister(target)) {
    const answered = await target.referrers(subject, artifactType);
    if (answered !== undefined) return answered;
  }
  const index = await readReferrersIndex(target, subject);
  return artifactType ? index.manifests.filter((d) => d.artifactType === artifactType) : index.manifests;
}

/** True when the target keeps no referrers index of its own, so the tag schema must be maintained. */
export async function needsReferrersTag(target: object, subject: Descriptor): Promise<boolean> {
  if (!isReferrerLister(target)) return true;
  return (await target.referrers(subject)) === undefined;
}

/** The entry a referrers index lists: artifactType and annotations lifted from the manifest. */
export function referrerDescriptor(desc: Descriptor, manifest: Pick<ImageManifest, 'artifactType' | 'annotations'> & { config?: Descriptor }): Descriptor {
  const artifactType = manifest.artifactType ?? manifest.config?.mediaType;
  return {
    mediaType: desc.mediaType,
    digest: desc.digest,
    size: desc.size,
    ...(artifactType ? { artifactType } : {}),
    ...(manifest.annotations ? { annotations: manifest.annotations } : {}),
  };
}

/** Make `referrer` findable from `subject` on a target without a referrers API: read-modify-write the tag index, deduped. */
export async function recordReferrer(target: Target, subject: Descriptor, referrer: Descriptor): Promise<void> {
  if (!(await needsReferrersTag(target, subject))) return;
  const index = await readReferrersIndex(target, subject);
  if (index.manifests.some((d) => d.digest === referrer.digest)) return;
  const entry = referrer.artifactType !== undefined ? referrer : await describeReferrer(target, referrer);
  const next: ImageIndex = { schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests: [...index.manifests, entry] };
  const { bytes, descriptor } = encodeManifest(next);
  await target.push(descriptor, bytes);
  await target.tag(descriptor, referrersTagOf(subject.digest));
}

/** A bare referrer descriptor, completed with artifactType and annotations from its manifest. */
async function describeReferrer(target: ReadOnlyTarget, referrer: Descriptor): Promise<Descriptor> {
  const manifest = await fetchManifest(target, referrer, `${target.location} (${referrer.digest})`);
  return referrerDescriptor(referrer, { ...manifest, ...('config' in manifest ? { config: manifest.config } : {}) });
}

/** Push `manifest` with `subject` set and make it listable as a referrer of `subject`. */
export async function attach(target: Target, subject: Descriptor, manifest: ImageManifest): Promise<Descriptor> {
  const withSubject: ImageManifest = {
    ...manifest,
    mediaType: manifest.mediaType ?? MEDIA_TYPE.ociManifest,
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
  };
  const { bytes, descriptor } = encodeManifest(withSubject);
  await target.push(descriptor, bytes);
  const listed = referrerDescriptor(descriptor, withSubject);
  await recordReferrer(target, subject, listed);
  return listed;
}

export interface ArtifactBlob {
  descriptor: Descriptor;
  /** Pushed unless the target already has it; omit when it is known to be there. */
  content?: Content;
}

export interface ArtifactSpec {
  artifactType: string;
  subject?: Descriptor;
  layers: ArtifactBlob[];
  annotations?: Record<string, string>;
  /** Defaults to the empty descriptor `{}` (image-spec "Guidance for an Empty Descriptor"). */
  config?: ArtifactBlob;
}

async function pushIfMissing(target: Storage, blob: ArtifactBlob): Promise<void> {
  if (await target.exists(blob.descriptor)) return;
  if (blob.content === undefined) {
    // Only the empty descriptor can be written without content: its bytes are `{}`.
    if (blob.descriptor.digest === EMPTY_DESCRIPTOR.digest) {
      await target.push(EMPTY_DESCRIPTOR, jsonContent({}, MEDIA_TYPE.empty).bytes);
      return;
    }
    throw new ModelshipError('OCI_NOT_FOUND', `content for ${blob.descriptor.digest} is not in ${(target as { location?: string }).location ?? 'the target'} and none was given`, {
      details: { digest: blob.descriptor.digest },
    });
  }
  await target.push(blob.descriptor, blob.content);
}

export interface ArtifactManifestSpec {
  artifactType: string;
  /** The empty descriptor unless given. */
  config?: Descriptor;
  /** With none, the one layer is the empty descriptor, as the schema wants at least one. */
  layers: readonly Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** An OCI 1.1 artifact manifest, built without I/O; the subject keeps only its media type, digest and size. */
export function artifactManifest(spec: ArtifactManifestSpec): ImageManifest {
  const { subject, annotations } = spec;
  return {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    artifactType: spec.artifactType,
    config: spec.config ?? { ...EMPTY_DESCRIPTOR },
    layers: spec.layers.length ? [...spec.layers] : [{ ...EMPTY_DESCRIPTOR }],
    ...(subject ? { subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size } } : {}),
    ...(annotations ? { annotations } : {}),
  };
}

/** Push an artifact's blobs and return its manifest (not pushed: `attach` or `push` it next). */
export async function buildArtifactManifest(target: Storage, spec: ArtifactSpec): Promise<ImageManifest> {
  const config = spec.config ?? { descriptor: EMPTY_DESCRIPTOR };
  // The schema wants at least one layer; an artifact with none carries the empty descriptor.
  const layers = spec.layers.length ? spec.layers : [{ descriptor: EMPTY_DESCRIPTOR }];
  for (const blob of [config, ...layers]) await pushIfMissing(target, blob);
  const plain = (d: Descriptor): Descriptor => {
    const { data: _data, ...rest } = d;
    return d.digest === EMPTY_DESCRIPTOR.digest ? { ...rest, data: EMPTY_DESCRIPTOR.data! } : rest;
  };
  return artifactManifest({
    artifactType: spec.artifactType,
    config: plain(config.descriptor),
    layers: layers.map((l) => plain(l.descriptor)),
    ...(spec.subject ? { subject: spec.subject } : {}),
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
  });
}
