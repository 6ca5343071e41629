/**
 * Manifests on a registry: GET/HEAD/PUT/DELETE by tag or digest with content negotiation for OCI
 * and Docker manifests and indexes, a 4 MiB cap, and `Docker-Content-Digest` checked against the bytes.
 */
import type { Readable } from 'node:stream';
import { ModelshipError } from '../../errors/index.js';
import { digestOf, hasherFor, isDigest, parseDigest } from '../digest.js';
import { digestMismatch, verifyBytes } from '../verify.js';
import { MAX_MANIFEST_BYTES, MEDIA_TYPE, type Descriptor } from '../types.js';
import { repositoryScope } from './auth.js';
import type { BlobContext } from './blobs.js';
import { redactUrl } from './errors.js';
import { discard, type WireResponse } from './transport.js';

/** Every manifest type we read, so registries do not down-convert to schema 1. */
export const MANIFEST_ACCEPT = [MEDIA_TYPE.ociManifest, MEDIA_TYPE.ociIndex, MEDIA_TYPE.dockerManifest, MEDIA_TYPE.dockerManifestList].join(', ');

export type ManifestContext = BlobContext;

function manifestPath(ctx: ManifestContext, reference: string): string {
  return `/v2/${ctx.repository}/manifests/${reference}`;
}

function label(ctx: ManifestContext, reference: string): string {
  return `${ctx.session.client.registry}/${ctx.repository}${isDigest(reference) ? '@' : ':'}${reference}`;
}

function mediaTypeOf(res: WireResponse): string | undefined {
  const type = res.headers['content-type'];
  return type ? type.split(';')[0]!.trim() : undefined;
}

/** A body read whole under the manifest cap; more is refused before it is buffered. */
async function readCapped(res: WireResponse, what: string): Promise<Uint8Array> {
  const declared = Number(res.headers['content-length'] ?? NaN);
  const tooBig = () =>
    new ModelshipError('OCI_SIZE_LIMIT', `manifest ${what} is over the ${MAX_MANIFEST_BYTES}-byte limit; it is not a manifest we can read`, {
      details: { reference: what, limit: MAX_MANIFEST_BYTES },
    });
  if (declared > MAX_MANIFEST_BYTES) {
    res.body.destroy();
    throw tooBig();
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body as Readable) {
    total += (chunk as Buffer).length;
    if (total > MAX_MANIFEST_BYTES) {
      res.body.destroy();
      throw tooBig();
    }
    chunks.push(chunk as Buffer);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

function hashWith(digest: string, bytes: Uint8Array): string {
  return `${parseDigest(digest).algorithm}:${hasherFor(digest).update(bytes).digest('hex')}`;
}

/** GET a manifest by tag or digest: bytes, and a descriptor whose digest the bytes were checked against. */
export async function getManifest(ctx: ManifestContext, reference: string): Promise<{ descriptor: Descriptor; bytes: Uint8Array }> {
  const what = label(ctx, reference);
  const res = await ctx.session.client.send({
    method: 'GET',
    url: manifestPath(ctx, reference),
    headers: { Accept: MANIFEST_ACCEPT },
    scopes: [repositoryScope(ctx.repository, 'pull')],
    expect: [200],
    context: `fetch manifest ${what}`,
  });
  const bytes = await readCapped(res, what);
  const header = res.headers['docker-content-digest'];
  const expected = isDigest(reference) ? reference : typeof header === 'string' && isDigest(header) ? header : undefined;
  const digest = expected ?? digestOf(bytes);
  const actual = hashWith(digest, bytes);
  if (actual !== digest) throw digestMismatch({ mediaType: '', digest, size: bytes.byteLength }, actual, what);
  if (typeof header === 'string' && header !== digest) throw digestMismatch({ mediaType: '', digest, size: bytes.byteLength }, header, `${what} (Docker-Content-Digest header)`);
  const mediaType = mediaTypeOf(res) ?? declaredMediaType(bytes) ?? MEDIA_TYPE.ociManifest;
  return { descriptor: { mediaType, digest, size: bytes.byteLength }, bytes };
}

function declaredMediaType(bytes: Uint8Array): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as { mediaType?: unknown };
    return typeof parsed.mediaType === 'string' ? parsed.mediaType : undefined;
  } catch {
    return undefined;
  }
}

/** The manifest's bytes for a descriptor, verified against its size and digest. */
export async function fetchManifestByDescriptor(ctx: ManifestContext, desc: Descriptor): Promise<Uint8Array> {
  const { bytes } = await getManifest(ctx, desc.digest);
  verifyBytes(desc, bytes, label(ctx, desc.digest));
  return bytes;
}

/** A tag or digest to its descriptor: HEAD first, GET when the registry leaves out the digest. */
export async function resolveManifest(ctx: ManifestContext, reference: string): Promise<Descriptor> {
  const res = await ctx.session.client.send({
    method: 'HEAD',
    url: manifestPath(ctx, reference),
    headers: { Accept: MANIFEST_ACCEPT },
    scopes: [repositoryScope(ctx.repository, 'pull')],
    // Some proxies refuse HEAD; GET answers the same question.
    expect: [200, 405, 501],
    context: `resolve ${label(ctx, reference)}`,
  });
  discard(res.body);
  if (res.status !== 200) return (await getManifest(ctx, reference)).descriptor;
  const header = res.headers['docker-content-digest'];
  const mediaType = mediaTypeOf(res);
  const size = Number(res.headers['content-length'] ?? NaN);
  if (typeof header === 'string' && isDigest(header) && mediaType && Number.isSafeInteger(size)) {
    if (isDigest(reference) && header !== reference) throw digestMismatch({ mediaType, digest: reference, size }, header, `${label(ctx, reference)} (Docker-Content-Digest header)`);
    return { mediaType, digest: header, size };
  }
  return (await getManifest(ctx, reference)).descriptor;
}

export async function manifestExists(ctx: ManifestContext, desc: Descriptor): Promise<boolean> {
  const res = await ctx.session.client.send({
    method: 'HEAD',
    url: manifestPath(ctx, desc.digest),
    headers: { Accept: MANIFEST_ACCEPT },
    scopes: [repositoryScope(ctx.repository, 'pull')],
    expect: [200, 404],
    context: `check manifest ${desc.digest}`,
  });
  discard(res.body);
  return res.status === 200;
}

/** PUT manifest bytes under a digest or tag; `subjectAccepted` when the registry answered `OCI-Subject` (it indexes referrers itself). */
export async function putManifest(ctx: ManifestContext, desc: Descriptor, bytes: Uint8Array, reference: string = desc.digest): Promise<{ subjectAccepted: boolean }> {
  verifyBytes(desc, bytes, 'the manifest being pushed');
  const what = label(ctx, reference);
  const res = await ctx.session.client.send({
    method: 'PUT',
    url: manifestPath(ctx, reference),
    headers: { 'Content-Type': desc.mediaType, 'Content-Length': String(bytes.byteLength) },
    body: bytes,
    scopes: [repositoryScope(ctx.repository, 'push')],
    expect: [201, 200],
    context: `push manifest ${what}`,
  });
  discard(res.body);
  const answered = res.headers['docker-content-digest'];
  if (typeof answered === 'string' && answered !== desc.digest) {
    throw new ModelshipError('OCI_DIGEST_MISMATCH', `${redactUrl(res.url)} stored manifest ${what} as ${answered}, not ${desc.digest}; the registry rewrote it`, {
      details: { expected: desc.digest, actual: answered },
    });
  }
  return { subjectAccepted: res.headers['oci-subject'] !== undefined };
}

export async function deleteManifest(ctx: ManifestContext, desc: Descriptor): Promise<void> {
  const res = await ctx.session.client.send({
    method: 'DELETE',
    url: manifestPath(ctx, desc.digest),
    scopes: [repositoryScope(ctx.repository, 'delete')],
    expect: [202, 200],
    context: `delete manifest ${label(ctx, desc.digest)}`,
  });
  discard(res.body);
}
