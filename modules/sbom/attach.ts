/**
 * SBOM bytes and types for attaching to an artifact as an OCI referrer (as Trivy does).
 */
import { CYCLONEDX_MEDIA_TYPE } from './cyclonedx.js';
import { SPDX_MEDIA_TYPE } from './spdx.js';

export type SbomFormat = 'cyclonedx' | 'spdx';
export const SBOM_FORMATS: readonly SbomFormat[] = ['cyclonedx', 'spdx'];

export interface SbomAttachment {
  artifactType: string;
  mediaType: string;
  bytes: Uint8Array;
}

export const SBOM_ARTIFACT_TYPES: Record<SbomFormat, string> = {
  cyclonedx: CYCLONEDX_MEDIA_TYPE,
  spdx: SPDX_MEDIA_TYPE,
};

/** The exact bytes written to files and pushed as referrer layers: two-space JSON and a newline. */
export function serializeSbom(doc: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(doc, null, 2) + '\n');
}

export function sbomAttachment(doc: unknown, format: SbomFormat): SbomAttachment {
  return { artifactType: SBOM_ARTIFACT_TYPES[format], mediaType: SBOM_ARTIFACT_TYPES[format], bytes: serializeSbom(doc) };
}
