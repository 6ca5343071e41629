/**
 * modules/oci: content-addressed storage over OCI layouts and registries, copy, and referrers.
 */
export * from './types.js';
export { parseDigest, isDigest, digestOf, descriptorOf, jsonContent, hasherFor, referrersTagOf } from './digest.js';
export type { DigestAlgorithm, ParsedDigest } from './digest.js';
export { verifyingStream, readAllVerified, verifyBytes, contentStream } from './verify.js';
export {
  parseReference,
  parseLayoutReference,
  parseRemoteReference,
  formatReference,
  referenceSelector,
  isValidTag,
  ACCEPTED_FORMS,
  DEFAULT_TAG,
  DOCKER_HUB,
} from './reference.js';
export type { Reference, LayoutReference, RemoteReference } from './reference.js';
export {
  parseImageManifest,
  parseImageIndex,
  parseManifestContent,
  successors,
  fetchManifest,
  fetchManifestBytes,
  encodeManifest,
} from './manifest.js';
export { LayoutTarget, REF_NAME_ANNOTATION } from './layout.js';
export { MemoryTarget } from './memory.js';
export { copy, copyGraph, CopyError, DEFAULT_CONCURRENCY } from './copy.js';
export type { CopyOptions, CopyGraphOptions, CopyResult, CopySide } from './copy.js';
export { referrers, attach, recordReferrer, needsReferrersTag, referrerDescriptor, buildArtifactManifest, artifactManifest } from './referrers.js';
export type { ArtifactBlob, ArtifactSpec, ArtifactManifestSpec } from './referrers.js';
export { signatureTagOf, isDigestTag, readSignatureImage, appendSignatureLayers } from './signature-tag.js';
export type { SignatureImage } from './signature-tag.js';
export { DEFAULT_PLATFORM, formatPlatform, parsePlatform, selectPlatform } from './platform.js';
export { openReference } from './open.js';
export type { OpenContext, OpenedReference } from './open.js';
export * from './remote/index.js';
