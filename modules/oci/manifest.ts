/**
 * Manifests and indexes read from untrusted bytes: size cap, JSON, every bad field listed at once.
 * Unknown media types are not parsed at all; they are content like any blob.
 */
import { parseJsonBounded } from '../json/bounded.js';
import { ModelshipError } from '../errors/index.js';
import { isDigest, jsonContent } from './digest.js';
import { readAllVerified } from './verify.js';
import {
  MAX_MANIFEST_BYTES,
  MEDIA_TYPE,
  isIndexMediaType,
  isManifestMediaType,
  type Descriptor,
  type Fetcher,
  type ImageIndex,
  type ImageManifest,
} from './types.js';

const MEDIA_TYPE_GRAMMAR = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

type Problems = string[];

function checkStringMap(value: unknown, path: string, problems: Problems): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(`${path}: must be an object of strings`);
    return;
  }
  for (const [k, v] of Object.entries(value)) if (typeof v !== 'string') problems.push(`${path}.${k}: must be a string`);
}

function checkMediaType(value: unknown, path: string, problems: Problems, required: boolean): void {
  if (value === undefined) {
    if (required) problems.push(`${path}: required`);
    return;
  }
  if (typeof value !== 'string' || !MEDIA_TYPE_GRAMMAR.test(value)) problems.push(`${path}: must be a media type like "type/subtype"`);
}

export function checkDescriptor(value: unknown, path: string, problems: Problems): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(`${path}: must be a descriptor object`);
    return;
  }
  const d = value as Record<string, unknown>;
  checkMediaType(d['mediaType'], `${path}.mediaType`, problems, true);
  if (typeof d['digest'] !== 'string' || !isDigest(d['digest'])) problems.push(`${path}.digest: must be sha256:<64 hex> or sha512:<128 hex>`);
  if (typeof d['size'] !== 'number' || !Number.isSafeInteger(d['size']) || d['size'] < 0) problems.push(`${path}.size: must be a non-negative integer`);
  if (d['urls'] !== undefined && (!Array.isArray(d['urls']) || d['urls'].some((u) => typeof u !== 'string'))) problems.push(`${path}.urls: must be an array of strings`);
  if (d['data'] !== undefined && (typeof d['data'] !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(d['data']))) problems.push(`${path}.data: must be base64`);
  checkMediaType(d['artifactType'], `${path}.artifactType`, problems, false);
  checkStringMap(d['annotations'], `${path}.annotations`, problems);
}

function parseJsonObject(bytes: Uint8Array, where: string): Record<string, unknown> {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    throw new ModelshipError('OCI_SIZE_LIMIT', `manifest from ${where} is ${bytes.byteLength} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`, {
      details: { where, size: bytes.byteLength, limit: MAX_MANIFEST_BYTES },
    });
  }
  let value: unknown;
  try {
    value = parseJsonBounded(new TextDecoder('utf-8', { fatal: true }).decode(bytes), (limit) =>
      new ModelshipError('OCI_INVALID_MANIFEST', `manifest from ${where} nests arrays or objects more than ${limit} deep; it is malformed or malicious`, { details: { where } }),
    );
  } catch (err) {
    if (err instanceof ModelshipError) throw err;
    throw new ModelshipError('OCI_INVALID_MANIFEST', `manifest from ${where} is not valid UTF-8 JSON: ${(err as Error).message}`, { cause: err, details: { where } });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ModelshipError('OCI_INVALID_MANIFEST', `manifest from ${where} must be a JSON object`, { details: { where } });
  }
  return value as Record<string, unknown>;
}

function fail(where: string, kind: string, problems: Problems): never {
  throw new ModelshipError('OCI_INVALID_MANIFEST', `invalid ${kind} from ${where}:\n  ${problems.join('\n  ')}`, { details: { where, problems } });
}

function checkCommon(m: Record<string, unknown>, problems: Problems): void {
  if (m['schemaVersion'] !== 2) problems.push('schemaVersion: must be 2');
  checkMediaType(m['mediaType'], 'mediaType', problems, false);
  checkMediaType(m['artifactType'], 'artifactType', problems, false);
  if (m['subject'] !== undefined) checkDescriptor(m['subject'], 'subject', problems);
  checkStringMap(m['annotations'], 'annotations', problems);
}

export function assertImageManifest(m: Record<string, unknown>, where: string): asserts m is Record<string, unknown> & ImageManifest {
  const problems: Problems = [];
  checkCommon(m, problems);
  checkDescriptor(m['config'], 'config', problems);
  if (!Array.isArray(m['layers'])) problems.push('layers: required, an array of descriptors');
  else m['layers'].forEach((l, i) => checkDescriptor(l, `layers[${i}]`, problems));
  if (problems.length) fail(where, 'image manifest', problems);
}

export function assertImageIndex(m: Record<string, unknown>, where: string): asserts m is Record<string, unknown> & ImageIndex {
  const problems: Problems = [];
  checkCommon(m, problems);
  if (!Array.isArray(m['manifests'])) problems.push('manifests: required, an array of descriptors');
  else m['manifests'].forEach((d, i) => checkDescriptor(d, `manifests[${i}]`, problems));
  if (problems.length) fail(where, 'image index', problems);
}

export function parseImageManifest(bytes: Uint8Array, where: string): ImageManifest {
  const m = parseJsonObject(bytes, where);
  assertImageManifest(m, where);
  return m;
}

export function parseImageIndex(bytes: Uint8Array, where: string): ImageIndex {
  const m = parseJsonObject(bytes, where);
  assertImageIndex(m, where);
  return m;
}

/** The media type a manifest declares in its bytes, or undefined (then the descriptor decides). */
function declaredMediaType(m: Record<string, unknown>): string | undefined {
  return typeof m['mediaType'] === 'string' ? m['mediaType'] : undefined;
}

/** Parse bytes as the manifest or index `desc` says they are, checking the declared media type agrees. */
export function parseManifestContent(desc: Descriptor, bytes: Uint8Array, where: string): ImageManifest | ImageIndex {
  const m = parseJsonObject(bytes, where);
  const declared = declaredMediaType(m);
  if (declared !== undefined && declared !== desc.mediaType) {
    fail(where, 'manifest', [`mediaType: the content says "${declared}" but its descriptor says "${desc.mediaType}"`]);
  }
  if (isIndexMediaType(desc.mediaType)) {
    assertImageIndex(m, where);
    return m;
  }
  assertImageManifest(m, where);
  return m;
}

/**
 * The children of a node, as oras: config and layers of a manifest, manifests of an index.
 * The subject is not followed (a referrer points at its subject, not the other way).
 */
export function successors(desc: Descriptor, bytes: Uint8Array, where: string): Descriptor[] {
  if (!isManifestMediaType(desc.mediaType)) return [];
  const parsed = parseManifestContent(desc, bytes, where);
  if ('manifests' in parsed) return parsed.manifests;
  return [parsed.config, ...parsed.layers];
}

/** Fetch a manifest's bytes, verified, under the 4 MiB cap. */
export async function fetchManifestBytes(source: Fetcher, desc: Descriptor, where: string): Promise<Uint8Array> {
  return readAllVerified(await source.fetch(desc), desc, MAX_MANIFEST_BYTES, where);
}

export async function fetchManifest(source: Fetcher, desc: Descriptor, where: string): Promise<ImageManifest | ImageIndex> {
  return parseManifestContent(desc, await fetchManifestBytes(source, desc, where), where);
}

/** Serialise a manifest we build, with its descriptor (artifactType copied up for referrers listings). */
export function encodeManifest(manifest: ImageManifest | ImageIndex): { bytes: Uint8Array; descriptor: Descriptor } {
  const mediaType = manifest.mediaType ?? ('manifests' in manifest ? MEDIA_TYPE.ociIndex : MEDIA_TYPE.ociManifest);
  const { bytes, descriptor } = jsonContent({ ...manifest, mediaType }, mediaType);
  return { bytes, descriptor };
}
