/**
 * OCI image-spec 1.1 content types and the role interfaces every store implements.
 * Shapes follow https://github.com/opencontainers/image-spec (descriptor.md, manifest.md, image-index.md).
 */
import type { Readable } from 'node:stream';

export const MEDIA_TYPE = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  empty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** Pre-defined annotation keys (image-spec annotations.md) that more than one module writes or reads. */
export const ANNOTATION_TITLE = 'org.opencontainers.image.title';
export const ANNOTATION_CREATED = 'org.opencontainers.image.created';

/** The empty JSON descriptor `{}` used as config of artifacts (image-spec manifest.md "Guidance for an Empty Descriptor"). */
export const EMPTY_DESCRIPTOR: Descriptor = Object.freeze({
  mediaType: MEDIA_TYPE.empty,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
  data: 'e30=',
});

/** Manifests larger than this are refused, as oras and containerd do. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  data?: string;
  artifactType?: string;
  platform?: Platform;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export type Content = Readable | Uint8Array | ReopenableContent;

/** Reads content by descriptor. The stream is verified against size and digest as it is read. */
export interface Fetcher {
  fetch(desc: Descriptor): Promise<Readable>;
}

/** Writes content; it is verified against the descriptor before it becomes visible. */
export interface Pusher {
  push(desc: Descriptor, content: Content): Promise<void>;
}

export interface ReadOnlyStorage extends Fetcher {
  exists(desc: Descriptor): Promise<boolean>;
}

export interface Storage extends ReadOnlyStorage, Pusher {}

export interface TagResolver {
  /** A tag or a digest to the descriptor of the manifest or index it names. */
  resolve(reference: string): Promise<Descriptor>;
  tag(desc: Descriptor, reference: string): Promise<void>;
}

export interface ReadOnlyTarget extends ReadOnlyStorage {
  /** Where this target lives, for messages: a path or a registry URL. */
  readonly location: string;
  resolve(reference: string): Promise<Descriptor>;
}

export interface Target extends Storage, TagResolver {
  readonly location: string;
}

/** Optional capabilities: each has a type guard; callers fall back when a target lacks one. */
export interface Deleter {
  delete(desc: Descriptor): Promise<void>;
}

export interface TagLister {
  tags(): AsyncIterable<string>;
}

export interface Mounter {
  /** Mount a blob from another repository of the same registry; false when the registry copied nothing. */
  mount(desc: Descriptor, fromRepository: string): Promise<boolean>;
  readonly registry: string;
  readonly repository: string;
}

export interface ReferrerLister {
  /** Manifests whose `subject` is `subject`, as the referrers API answers; undefined when the target has no such API. */
  referrers(subject: Descriptor, artifactType?: string): Promise<Descriptor[] | undefined>;
}

export function isDeleter(t: object): t is Deleter {
  return typeof (t as Partial<Deleter>).delete === 'function';
}

export function isTagLister(t: object): t is TagLister {
  return typeof (t as Partial<TagLister>).tags === 'function';
}

export function isMounter(t: object): t is Mounter {
  return typeof (t as Partial<Mounter>).mount === 'function';
}

export function isReferrerLister(t: object): t is ReferrerLister {
  return typeof (t as Partial<ReferrerLister>).referrers === 'function';
}

export function isManifestMediaType(mediaType: string): boolean {
  return (
    mediaType === MEDIA_TYPE.ociManifest ||
    mediaType === MEDIA_TYPE.ociIndex ||
    mediaType === MEDIA_TYPE.dockerManifest ||
    mediaType === MEDIA_TYPE.dockerManifestList
  );
}

export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MEDIA_TYPE.ociIndex || mediaType === MEDIA_TYPE.dockerManifestList;
}

/** Content that can be reopened from a byte offset, so an interrupted upload resumes instead of restarting. */
export interface ReopenableContent {
  open(offset: number): Promise<Readable>;
}

/** Optional capability: read a blob from a byte offset (unverified; the caller hashes the whole). */
export interface RangeFetcher {
  fetchFrom(desc: Descriptor, offset: number): Promise<Readable>;
}

export function isRangeFetcher(t: object): t is RangeFetcher {
  return typeof (t as Partial<RangeFetcher>).fetchFrom === 'function';
}

/** A store whose garbage collector must spare what a running write has stored but not yet tagged. */
export interface WriteLeaser {
  /** Runs `work` with a write lease held: blobs it stores or reuses stay until it has finished. */
  hold<T>(work: () => Promise<T>): Promise<T>;
}

export function isWriteLeaser(t: object): t is WriteLeaser {
  return typeof (t as Partial<WriteLeaser>).hold === 'function';
}
