/**
 * Sigstore bundles as OCI referrers of an artifact: attached the way cosign v3 stores them, and read
 * back (through the referrers API or the tag fallback) with the predicate type each one declares.
 */
import { attach, buildArtifactManifest, fetchManifest, readAllVerified, referrers } from '../../oci/index.js';
import type { Descriptor, ImageManifest, ReadOnlyTarget, Target } from '../../oci/types.js';
import { ModelshipError } from '../../errors/index.js';
import { ANNOTATION_BUNDLE_PREDICATE_TYPE, bundleReferrerManifest } from '../attach.js';
import { BUNDLE_V03_MEDIA_TYPE } from '../bundle.js';

/** Bundles and attested documents are metadata: refuse anything larger than this. */
export const MAX_REFERRER_BLOB_BYTES = 32 * 1024 * 1024;

/** Push the bundle and its referrer manifest; returns the referrer as a referrers listing shows it. */
export async function attachBundle(target: Target, subject: Descriptor, bundleBytes: Uint8Array, predicateType: string): Promise<Descriptor> {
  const referrer = bundleReferrerManifest(subject, bundleBytes, predicateType);
  const manifest = await buildArtifactManifest(target, {
    artifactType: BUNDLE_V03_MEDIA_TYPE,
    layers: [{ descriptor: referrer.layer.descriptor, content: referrer.layer.bytes }],
    annotations: referrer.manifest.annotations ?? {},
  });
  return attach(target, subject, manifest);
}

export interface FoundBundle {
  /** The referrer manifest. */
  referrer: Descriptor;
  /** What its annotation declares; the signed statement is what counts. */
  declaredPredicateType?: string;
  /** The bundle bytes, or why they could not be read. */
  bytes?: Uint8Array;
  problem?: string;
}

/** Every Sigstore bundle referrer of `subject`, with its bundle read (verified against its digest). */
export async function findBundles(target: ReadOnlyTarget, subject: Descriptor): Promise<FoundBundle[]> {
  const listed = await referrers(target, subject, BUNDLE_V03_MEDIA_TYPE);
  const found: FoundBundle[] = [];
  for (const referrer of listed) found.push(await readBundle(target, referrer));
  return found;
}

async function readBundle(target: ReadOnlyTarget, referrer: Descriptor): Promise<FoundBundle> {
  const where = `${target.location} (referrer ${referrer.digest})`;
  const declared = referrer.annotations?.[ANNOTATION_BUNDLE_PREDICATE_TYPE];
  const base: FoundBundle = { referrer, ...(declared ? { declaredPredicateType: declared } : {}) };
  try {
    const manifest = await fetchManifest(target, referrer, where);
    const layer = 'layers' in manifest ? bundleLayer(manifest) : undefined;
    if (!layer) return { ...base, problem: `${where} holds no ${BUNDLE_V03_MEDIA_TYPE} layer` };
    const bytes = await readAllVerified(await target.fetch(layer), layer, MAX_REFERRER_BLOB_BYTES, where);
    const annotated = (manifest as ImageManifest).annotations?.[ANNOTATION_BUNDLE_PREDICATE_TYPE];
    return { ...base, ...(annotated ? { declaredPredicateType: annotated } : {}), bytes };
  } catch (err) {
    if (err instanceof ModelshipError) return { ...base, problem: err.message };
    throw err;
  }
}

function bundleLayer(manifest: ImageManifest): Descriptor | undefined {
  return manifest.layers.find((l) => l.mediaType === BUNDLE_V03_MEDIA_TYPE);
}

/** A small referrer blob (an SBOM, a report) read whole and checked against its digest. */
export async function readReferrerDocument(target: ReadOnlyTarget, referrer: Descriptor): Promise<{ layer: Descriptor; bytes: Uint8Array }> {
  const where = `${target.location} (referrer ${referrer.digest})`;
  const manifest = await fetchManifest(target, referrer, where);
  const layer = 'layers' in manifest ? manifest.layers[0] : undefined;
  if (!layer) throw new ModelshipError('OCI_INVALID_MANIFEST', `${where} has no layer holding its document`);
  return { layer, bytes: await readAllVerified(await target.fetch(layer), layer, MAX_REFERRER_BLOB_BYTES, where) };
}
