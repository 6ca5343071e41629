/**
 * One view of any model artifact: CNCF ModelPack (and the legacy cnai names), KitOps ModelKits,
 * Docker model artifacts, Ollama manifests and ModelCar images, so inspect and unpack work on all.
 */
import { ModelshipError } from '../errors/index.js';
import { parseJsonBounded } from '../json/bounded.js';
import { fetchManifest, fetchManifestBytes } from '../oci/manifest.js';
import { MEDIA_TYPE, type Descriptor, type ImageManifest, type ReadOnlyTarget } from '../oci/types.js';
import type { FileKind } from '../project/model-spec.js';
import { parseModelConfig } from './config.js';
import {
  ANNOTATION_FILE_METADATA,
  ANNOTATION_FILEPATH,
  ANNOTATION_TITLE,
  LEGACY_ANNOTATION_FILE_METADATA,
  LEGACY_ANNOTATION_FILEPATH,
  isModelArtifactType,
  isModelConfigMediaType,
  LEGACY_MODEL_ARTIFACT_TYPE,
  LEGACY_MODEL_CONFIG_MEDIA_TYPE,
  parseLayerMediaType,
  type LayerFormat,
} from './mediatypes.js';
import { MODELKIT_ARTIFACT_TYPE, MODELKIT_CONFIG_MEDIA_TYPE } from './modelkit.js';

export type ArtifactFormat = 'modelpack' | 'modelpack-legacy' | 'modelkit' | 'docker-model' | 'ollama' | 'modelcar' | 'unknown';

export interface ArtifactFile {
  /** Where the layer goes, relative to the unpack folder: a file for raw layers, the tar's root otherwise. */
  path: string;
  kind: FileKind;
  digest: string;
  size: number;
  mediaType: string;
  layerFormat: LayerFormat;
  /** The layer descriptor as the manifest lists it. */
  layer: Descriptor;
  /** The file's path in the artifact as its annotation names it (a tar layer's `path` is the unpack root "."). */
  name?: string;
}

/**
 * The bytes a layer holds once unpacked, where known: a raw layer is the file; for a tar layer,
 * packing records the file's size in the file metadata annotation. Undefined when nothing says.
 */
export function unpackedSize(file: Pick<ArtifactFile, 'layerFormat' | 'size' | 'layer'>): number | undefined {
  if (file.layerFormat === 'raw') return file.size;
  const meta = file.layer.annotations?.[ANNOTATION_FILE_METADATA] ?? file.layer.annotations?.[LEGACY_ANNOTATION_FILE_METADATA];
  if (!meta) return undefined;
  try {
    const size = (JSON.parse(meta) as { size?: unknown }).size;
    return typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? size : undefined;
  } catch {
    return undefined;
  }
}

export interface ModelArtifactView {
  format: ArtifactFormat;
  /** The parsed config: a ModelPack config, a Kitfile, a Docker or Ollama config; undefined when unreadable. */
  config: unknown;
  files: ArtifactFile[];
  /** The manifest that was read (inside an index, the one chosen). */
  descriptor: Descriptor;
  manifest: ImageManifest;
  /** What the reference resolved to: a ModelCar's index (the digest clusters pin), else `descriptor`. */
  resolved: Descriptor;
  /** The runnable images listed beside the model in that index (a ModelCar's platform image). */
  images: Descriptor[];
}

const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** Where a ModelCar image holds the model (KServe links it to /mnt/models); ModelCar paths start with it. */
export const MODELCAR_PREFIX = 'models/';

/** Format of a layer media type's suffix: `.tar`, `.tar+gzip`, `.tar.gzip`… */
function tarFormatOf(mediaType: string): LayerFormat | undefined {
  if (/\.tar\+gzip$|\.tar\.gzip$|\.tar\.gz$/.test(mediaType)) return 'tar+gzip';
  if (/\.tar\+zstd$|\.tar\.zstd$/.test(mediaType)) return 'tar+zstd';
  if (/\.tar$/.test(mediaType)) return 'tar';
  return undefined;
}

function pathAnnotation(layer: Descriptor): string | undefined {
  const a = layer.annotations ?? {};
  return a[ANNOTATION_FILEPATH] ?? a[LEGACY_ANNOTATION_FILEPATH] ?? a[ANNOTATION_TITLE];
}

export function detectFormat(manifest: ImageManifest): ArtifactFormat {
  const configType = manifest.config.mediaType;
  const layers = manifest.layers.map((l) => l.mediaType);
  if (isModelArtifactType(manifest.artifactType) || isModelConfigMediaType(configType) || layers.some((m) => parseLayerMediaType(m))) {
    const legacy =
      manifest.artifactType === LEGACY_MODEL_ARTIFACT_TYPE || configType === LEGACY_MODEL_CONFIG_MEDIA_TYPE || layers.some((m) => parseLayerMediaType(m)?.legacy);
    return legacy ? 'modelpack-legacy' : 'modelpack';
  }
  if (manifest.artifactType === MODELKIT_ARTIFACT_TYPE || configType === MODELKIT_CONFIG_MEDIA_TYPE) return 'modelkit';
  if (configType.startsWith('application/vnd.docker.ai.') || layers.some((m) => m.startsWith('application/vnd.docker.ai.'))) return 'docker-model';
  if (layers.some((m) => m.startsWith('application/vnd.ollama.image.'))) return 'ollama';
  if (configType === MEDIA_TYPE.ociConfig || configType === MEDIA_TYPE.dockerConfig) return 'modelcar';
  return 'unknown';
}

function modelpackFiles(manifest: ImageManifest, where: string): ArtifactFile[] {
  return manifest.layers.map((layer, i) => {
    const parsed = parseLayerMediaType(layer.mediaType);
    if (!parsed) throw new ModelshipError('MODEL_INVALID', `${where}: layer ${i} (${layer.digest}) has media type ${layer.mediaType}, not a ModelPack layer`);
    const path = pathAnnotation(layer);
    if (path === undefined && parsed.format === 'raw') {
      throw new ModelshipError('MODEL_INVALID', `${where}: raw layer ${i} (${layer.digest}) has no ${ANNOTATION_FILEPATH} annotation, so its file name is unknown`);
    }
    // A tar layer unpacks at the root; its entries carry the paths.
    return { path: parsed.format === 'raw' ? path! : '.', ...(path === undefined ? {} : { name: path }), kind: parsed.kind, digest: layer.digest, size: layer.size, mediaType: layer.mediaType, layerFormat: parsed.format, layer };
  });
}

const KIT_KIND: Record<string, FileKind> = { model: 'weight', modelpart: 'weight', dataset: 'dataset', code: 'code', docs: 'doc' };

function modelkitFiles(manifest: ImageManifest, where: string): ArtifactFile[] {
  return manifest.layers.map((layer, i) => {
    const m = /^application\/vnd\.kitops\.modelkit\.(model|modelpart|dataset|code|docs|prompts)\.v1\.(tar|raw)(?:\+(gzip|zstd))?$/.exec(layer.mediaType);
    if (!m) throw new ModelshipError('MODEL_INVALID', `${where}: layer ${i} (${layer.digest}) has media type ${layer.mediaType}, not a ModelKit layer`);
    const format: LayerFormat = m[2] === 'raw' ? 'raw' : m[3] ? (`tar+${m[3]}` as LayerFormat) : 'tar';
    const path = format === 'raw' ? pathAnnotation(layer) : '.';
    if (path === undefined) throw new ModelshipError('MODEL_INVALID', `${where}: raw ModelKit layer ${i} (${layer.digest}) has no title annotation`);
    const name = pathAnnotation(layer);
    return { path, ...(name === undefined ? {} : { name }), kind: KIT_KIND[m[1]!] ?? 'doc', digest: layer.digest, size: layer.size, mediaType: layer.mediaType, layerFormat: format, layer };
  });
}

/** Docker Model Runner: `application/vnd.docker.ai.<type>`; weights are raw files. */
function dockerFiles(manifest: ImageManifest): ArtifactFile[] {
  return manifest.layers.map((layer, i) => {
    const type = layer.mediaType.replace(/^application\/vnd\.docker\.ai\./, '');
    const kind: FileKind = /^(gguf|safetensors|mmproj|onnx)/.test(type) ? 'weight' : /license/.test(type) ? 'doc' : 'weightConfig';
    const format = tarFormatOf(layer.mediaType) ?? 'raw';
    const fallback = type.startsWith('gguf') ? (i === 0 ? 'model.gguf' : `model-${i}.gguf`) : type.startsWith('safetensors') ? `model-${i}.safetensors` : `${type.replace(/[^a-z0-9.-]/gi, '_')}-${i}`;
    return { path: format === 'raw' ? (pathAnnotation(layer) ?? fallback) : '.', kind, digest: layer.digest, size: layer.size, mediaType: layer.mediaType, layerFormat: format, layer };
  });
}

/** Ollama: `application/vnd.ollama.image.<part>`, one raw blob per part. */
function ollamaFiles(manifest: ImageManifest): ArtifactFile[] {
  const seen = new Map<string, number>();
  return manifest.layers.map((layer) => {
    const part = layer.mediaType.replace(/^application\/vnd\.ollama\.image\./, '').replace(/[^a-z0-9.-]/gi, '_');
    const n = seen.get(part) ?? 0;
    seen.set(part, n + 1);
    const base = part === 'model' || part === 'adapter' || part === 'projector' ? `${part}.gguf` : part;
    const path = n === 0 ? base : `${base}.${n}`;
    const kind: FileKind = part === 'model' || part === 'adapter' || part === 'projector' ? 'weight' : part === 'license' ? 'doc' : 'weightConfig';
    return { path, kind, digest: layer.digest, size: layer.size, mediaType: layer.mediaType, layerFormat: 'raw', layer };
  });
}

/** A runnable image: its layers unpack at the root (the model sits under models/). */
function imageFiles(manifest: ImageManifest): ArtifactFile[] {
  return manifest.layers.map((layer) => ({
    path: '.',
    kind: 'weight',
    digest: layer.digest,
    size: layer.size,
    mediaType: layer.mediaType,
    layerFormat: tarFormatOf(layer.mediaType.replace('rootfs.diff.tar.gzip', 'tar+gzip')) ?? 'tar+gzip',
    layer,
  }));
}

async function readConfig(target: ReadOnlyTarget, manifest: ImageManifest, where: string): Promise<unknown> {
  if (manifest.config.size > MAX_CONFIG_BYTES) return undefined;
  const bytes = await fetchManifestBytes(target, manifest.config, `${where} config`);
  if (isModelConfigMediaType(manifest.config.mediaType)) return parseModelConfig(bytes, `${where} config ${manifest.config.digest}`);
  const tooDeep = (limit: number) => new ModelshipError('MODEL_INVALID', `${where}: config ${manifest.config.digest} nests arrays or objects more than ${limit} deep; the artifact is malformed or malicious`);
  try {
    return parseJsonBounded(new TextDecoder().decode(bytes), tooDeep);
  } catch (err) {
    if (err instanceof ModelshipError) throw err;
    return undefined;
  }
}

/** Pick the model from an index: a ModelPack (or other model) manifest before a runnable image. */
function chooseFromIndex(manifests: Descriptor[], where: string): Descriptor {
  const ranked = [...manifests].sort((a, b) => Number(Boolean(a.platform)) - Number(Boolean(b.platform)));
  const pick = ranked.find((m) => m.mediaType === MEDIA_TYPE.ociManifest || m.mediaType === MEDIA_TYPE.dockerManifest);
  if (!pick) throw new ModelshipError('MODEL_INVALID', `${where} is an index without an image manifest`);
  return pick;
}

/** The files a manifest of `format` holds; pure, so recorded manifests can be read without their blobs. */
export function artifactFiles(manifest: ImageManifest, format: ArtifactFormat = detectFormat(manifest), where = 'manifest'): ArtifactFile[] {
  switch (format) {
    case 'modelpack':
    case 'modelpack-legacy':
      return modelpackFiles(manifest, where);
    case 'modelkit':
      return modelkitFiles(manifest, where);
    case 'docker-model':
      return dockerFiles(manifest);
    case 'ollama':
      return ollamaFiles(manifest);
    case 'modelcar':
      return imageFiles(manifest);
    case 'unknown':
      return [];
    default: {
      const never: never = format;
      throw new ModelshipError('MODEL_INVALID', `unhandled format ${String(never)}`);
    }
  }
}

/** Read `reference` on `target` into the common view. */
export async function readArtifact(target: ReadOnlyTarget, reference: string): Promise<ModelArtifactView> {
  const where = `${target.location} (${reference})`;
  const resolved = await target.resolve(reference);
  let descriptor = resolved;
  let images: Descriptor[] = [];
  let parsed = await fetchManifest(target, descriptor, where);
  if ('manifests' in parsed) {
    descriptor = chooseFromIndex(parsed.manifests, where);
    images = parsed.manifests.filter((m) => m.platform && m.digest !== descriptor.digest);
    parsed = await fetchManifest(target, descriptor, where);
    if ('manifests' in parsed) throw new ModelshipError('MODEL_INVALID', `${where}: nested indexes are not a model artifact`);
  }
  const manifest = parsed;
  const format = detectFormat(manifest);
  const config = await readConfig(target, manifest, where);
  const files = artifactFiles(manifest, format, where);
  return { format, config, files, descriptor, manifest, resolved, images };
}

/**
 * The folder a ModelCar's model files sit under (`models/`), or "" for any other artifact. Packing
 * for a ModelCar prefixes every path, so documents are read relative to it, as in the plain pack.
 */
export function modelRootOf(view: Pick<ModelArtifactView, 'files' | 'images'>, prefix = MODELCAR_PREFIX): string {
  const names = view.files.map((f) => f.name);
  // A ModelCar's folder layer of top-level files is named by the model folder itself (`models`).
  if (names.length === 0 || !names.every((n) => n?.startsWith(prefix) || n === prefix.replace(/\/$/, ''))) return '';
  // Through the index the image says so; by the model manifest's own digest, tar layers under models/ do.
  return view.images.length > 0 || view.files.every((f) => f.layerFormat !== 'raw') ? prefix : '';
}
