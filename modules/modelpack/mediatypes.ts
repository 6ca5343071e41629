/**
 * CNCF ModelPack media types and annotation keys (model-spec v0.0.7), plus the legacy
 * `cnai` names that v0.0.6 and modctl < 0.2 wrote: emit only the cncf names, read both.
 */
import { ModelshipError } from '../errors/index.js';
import type { FileKind } from '../project/model-spec.js';

export const MODEL_ARTIFACT_TYPE = 'application/vnd.cncf.model.manifest.v1+json';
export const MODEL_CONFIG_MEDIA_TYPE = 'application/vnd.cncf.model.config.v1+json';
export const LEGACY_MODEL_ARTIFACT_TYPE = 'application/vnd.cnai.model.manifest.v1+json';
export const LEGACY_MODEL_CONFIG_MEDIA_TYPE = 'application/vnd.cnai.model.config.v1+json';

export const ANNOTATION_FILEPATH = 'org.cncf.model.filepath';
export const ANNOTATION_FILE_METADATA = 'org.cncf.model.file.metadata+json';
export const ANNOTATION_FILE_MEDIATYPE_UNTESTED = 'org.cncf.model.file.mediatype.untested';
export const LEGACY_ANNOTATION_FILEPATH = 'org.cnai.model.filepath';
export const LEGACY_ANNOTATION_FILE_METADATA = 'org.cnai.model.file.metadata+json';
export const LEGACY_ANNOTATION_FILE_MEDIATYPE_UNTESTED = 'org.cnai.model.file.mediatype.untested';
/** podman and CRI-O artifact mounts name files only from this one. */
export { ANNOTATION_TITLE } from '../oci/types.js';
/** modctl stores the whole Modelfile here; KitOps the Kitfile in the other. */
export const ANNOTATION_MODCTL_MODELFILE = 'org.cncf.modctl.modelfile';
export const ANNOTATION_KITOPS_KITFILE = 'ml.kitops.modelkit.kitfile';

export type LayerFormat = 'raw' | 'tar' | 'tar+gzip' | 'tar+zstd';
export const LAYER_FORMATS: readonly LayerFormat[] = ['raw', 'tar', 'tar+gzip', 'tar+zstd'];

/** The media-type word for each file kind. */
const KIND_WORD: Record<FileKind, string> = {
  weight: 'weight',
  weightConfig: 'weight.config',
  doc: 'doc',
  code: 'code',
  dataset: 'dataset',
};
const KIND_BY_WORD = new Map(Object.entries(KIND_WORD).map(([kind, word]) => [word, kind as FileKind]));

/** e.g. layerMediaType('weightConfig', 'tar') → application/vnd.cncf.model.weight.config.v1.tar */
export function layerMediaType(kind: FileKind, format: LayerFormat): string {
  if (!LAYER_FORMATS.includes(format)) {
    throw new ModelshipError('USAGE', `unknown layer format "${format}": use one of ${LAYER_FORMATS.join(', ')}`);
  }
  return `application/vnd.cncf.model.${KIND_WORD[kind]}.v1.${format}`;
}

export interface ParsedLayerMediaType {
  kind: FileKind;
  format: LayerFormat;
  /** True for the pre-v0.0.7 `application/vnd.cnai.model.*` names. */
  legacy: boolean;
}

const LAYER_PATTERN = /^application\/vnd\.(cncf|cnai)\.model\.(weight\.config|weight|doc|code|dataset)\.v1\.(raw|tar|tar\+gzip|tar\+zstd)$/;

/** Reads a ModelPack layer media type (cncf or cnai); undefined when it is not one. */
export function parseLayerMediaType(mediaType: string): ParsedLayerMediaType | undefined {
  const m = LAYER_PATTERN.exec(mediaType);
  if (!m) return undefined;
  return { kind: KIND_BY_WORD.get(m[2]!)!, format: m[3] as LayerFormat, legacy: m[1] === 'cnai' };
}

export function isModelConfigMediaType(mediaType: string): boolean {
  return mediaType === MODEL_CONFIG_MEDIA_TYPE || mediaType === LEGACY_MODEL_CONFIG_MEDIA_TYPE;
}

export function isModelArtifactType(artifactType: string | undefined): boolean {
  return artifactType === MODEL_ARTIFACT_TYPE || artifactType === LEGACY_MODEL_ARTIFACT_TYPE;
}
