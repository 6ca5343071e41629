/**
 * The documents this module produces, as bytes with the artifact types to attach them under
 * (as OCI referrers of the model artifact). Pure: no I/O, same input gives the same bytes.
 */
import { ANNOTATION_TITLE } from '../oci/types.js';
import type { MofDerivation } from './mof/derive.js';

export const MOF_REPORT_ARTIFACT_TYPE = 'application/vnd.modelship.mof.report.v1+json';
export const MODEL_CARD_ARTIFACT_TYPE = 'application/vnd.modelship.card.model.v1+markdown';
export const DATA_CARD_ARTIFACT_TYPE = 'application/vnd.modelship.card.data.v1+markdown';
export const MARKDOWN_MEDIA_TYPE = 'text/markdown';

export interface AttachableDocument {
  /** The referrer manifest's artifactType. */
  artifactType: string;
  /** The media type of the one layer that carries `bytes`. */
  mediaType: string;
  bytes: Uint8Array;
  /** Suggested manifest annotations (title, and for the report its class). */
  annotations: Record<string, string>;
}

export interface MofReport {
  framework: { name: string; version: string };
  model: { name: string; version?: string };
  class: number;
  label: string;
  progress: { '1': number; '2': number; '3': number };
  missing: { '1': string[]; '2': string[]; '3': string[] };
  notTypeAppropriate: string[];
  components: MofDerivation['components'];
  toAdd: MofDerivation['toAdd'];
  /** The MOT-importable YAML the verdict was computed from. */
  mot: string;
}

export function mofReport(mof: MofDerivation): MofReport {
  const e = mof.evaluation;
  const model: MofReport['model'] = { name: mof.document.release.name };
  if (mof.document.release.version) model.version = mof.document.release.version;
  return {
    framework: { name: mof.document.framework.name, version: mof.document.framework.version },
    model,
    class: e.class,
    label: e.label,
    progress: e.progress,
    missing: e.missing,
    notTypeAppropriate: e.notTypeAppropriate,
    components: mof.components,
    toAdd: mof.toAdd,
    mot: mof.motYaml,
  };
}

export function mofReportDocument(mof: MofDerivation): AttachableDocument {
  const report = mofReport(mof);
  return {
    artifactType: MOF_REPORT_ARTIFACT_TYPE,
    mediaType: MOF_REPORT_ARTIFACT_TYPE,
    bytes: new TextEncoder().encode(JSON.stringify(report, null, 2) + '\n'),
    annotations: {
      [ANNOTATION_TITLE]: 'mof-report.json',
      'dev.modelship.mof.class': String(report.class),
      'dev.modelship.mof.label': report.label,
    },
  };
}

export function modelCardDocument(markdown: string): AttachableDocument {
  return { artifactType: MODEL_CARD_ARTIFACT_TYPE, mediaType: MARKDOWN_MEDIA_TYPE, bytes: new TextEncoder().encode(markdown), annotations: { [ANNOTATION_TITLE]: 'README.md' } };
}

export function dataCardDocument(markdown: string): AttachableDocument {
  return { artifactType: DATA_CARD_ARTIFACT_TYPE, mediaType: MARKDOWN_MEDIA_TYPE, bytes: new TextEncoder().encode(markdown), annotations: { [ANNOTATION_TITLE]: 'DATACARD.md' } };
}
