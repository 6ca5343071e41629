/**
 * Put one document (SBOM, card, MOF report) on a model artifact as an OCI referrer: a manifest
 * with the document as its single layer and the model as its subject.
 */
import {
  ANNOTATION_CREATED,
  ANNOTATION_TITLE,
  attach,
  buildArtifactManifest,
  descriptorOf,
  fetchManifest,
  referrers,
  type Descriptor,
  type Target,
} from '../oci/index.js';

import type { OpenedReference } from '../oci/open.js';
import { copyLocation, describeCopy } from '../store/open.js';

export { ANNOTATION_TITLE as TITLE_ANNOTATION, ANNOTATION_CREATED as CREATED_ANNOTATION } from '../oci/index.js';

export interface DocumentToAttach {
  /** The referrer manifest's artifactType, what `discover --artifact-type` filters on. */
  artifactType: string;
  /** The media type of the layer that carries `bytes`. */
  mediaType: string;
  bytes: Uint8Array;
  /** Manifest annotations; the title (a file name) is also set on the layer, where oras reads it. */
  annotations?: Record<string, string>;
}

export interface AttachDocumentOptions {
  /** File name to record when the document's annotations name none. */
  title?: string;
  /** Record this time as `org.opencontainers.image.created`; left out, the referrer is reproducible. */
  created?: Date;
}

/** The referrer of `subject` already carrying these exact bytes under `artifactType`, if any. */
export async function findAttached(target: Target, subject: Descriptor, artifactType: string, layerDigest: string): Promise<Descriptor | undefined> {
  for (const candidate of await referrers(target, subject, artifactType)) {
    const manifest = await fetchManifest(target, candidate, `${target.location} (referrer ${candidate.digest})`);
    if ('layers' in manifest && manifest.layers.some((l) => l.digest === layerDigest)) return candidate;
  }
  return undefined;
}

/**
 * Attach `doc` to `subject` on `target` through the referrers API, or the referrers tag where the
 * target has none. Attaching the same bytes again returns the referrer already there.
 */
export async function attachDocument(target: Target, subject: Descriptor, doc: DocumentToAttach, opts: AttachDocumentOptions = {}): Promise<Descriptor> {
  const title = doc.annotations?.[ANNOTATION_TITLE] ?? opts.title ?? 'document';
  const layer = descriptorOf(doc.bytes, doc.mediaType, { annotations: { [ANNOTATION_TITLE]: title } });
  const existing = await findAttached(target, subject, doc.artifactType, layer.digest);
  if (existing) return existing;
  const annotations: Record<string, string> = { ...doc.annotations, [ANNOTATION_TITLE]: title };
  if (opts.created) annotations[ANNOTATION_CREATED] = opts.created.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const manifest = await buildArtifactManifest(target, {
    artifactType: doc.artifactType,
    subject,
    layers: [{ descriptor: layer, content: doc.bytes }],
    annotations,
  });
  return attach(target, subject, manifest);
}

/** One line saying what was attached where, for command output. */
/** Names the copy the document went to; a store copy is published only by pushing it. */
export function attachedLine(referrer: Descriptor, opened: OpenedReference, subject: Descriptor): string {
  const line = `attached ${referrer.digest} (${referrer.artifactType ?? referrer.mediaType}) to ${describeCopy(opened, subject.digest)}`;
  return copyLocation(opened) === 'local' ? `${line}\nattached to the local copy; push to publish` : line;
}
