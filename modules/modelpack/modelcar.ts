/**
 * The ModelCar view: a runnable OCI image (a small base such as busybox, plus the model under
 * /models) for KServe's `oci://` storage. Its model layers are the very blobs of the ModelPack
 * manifest (tar layers whose entries are `models/<file>`), so the weights are stored and sent once.
 * An index ties the two manifests to one tag: runtimes pick the image by platform, modelship the model.
 */
import { ModelshipError } from '../errors/index.js';
import { copyGraph } from '../oci/copy.js';
import { fetchManifest, fetchManifestBytes } from '../oci/manifest.js';
import { DEFAULT_PLATFORM, selectPlatform } from '../oci/platform.js';
import { isIndexMediaType, MEDIA_TYPE, type Descriptor, type ImageIndex, type ImageManifest, type Platform, type ReadOnlyTarget, type Target } from '../oci/types.js';
import { GROUP_MAX_FILE_BYTES, type PackedFile } from './layers.js';
import { parseLayerMediaType } from './mediatypes.js';
import { pushBytes, pushManifest } from './content.js';

export interface ModelCarBase {
  /** Where the base image lives (a layout, the store, or a registry). */
  target: ReadOnlyTarget;
  /** Tag or digest of the base image on `target`. */
  reference: string;
  /** The one platform to take from a multi-platform base; default: each of MODELCAR_PLATFORMS the base offers. */
  platform?: Platform;
}

/** The platforms a ModelCar is built for when its base offers them: x86 and Arm GPU nodes. */
export const MODELCAR_PLATFORMS: readonly Platform[] = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64' },
];

export interface ModelCarImage {
  descriptor: Descriptor;
  manifest: ImageManifest;
  platform: Platform;
}

export interface ModelCarResult {
  /** The first platform image (linux/amd64 when the base has it). */
  image: Descriptor;
  imageManifest: ImageManifest;
  /** One image per platform, all with the same model layers (the ModelPack manifest's blobs). */
  images: ModelCarImage[];
  /** The index listing the images (with their platforms) and the ModelPack manifest. */
  index: Descriptor;
}

interface ImageConfig {
  architecture?: string;
  os?: string;
  config?: Record<string, unknown>;
  rootfs?: { type: string; diff_ids: string[] };
  history?: Record<string, unknown>[];
  [key: string]: unknown;
}

const DOCKER_TO_OCI_LAYER: Record<string, string> = {
  'application/vnd.docker.image.rootfs.diff.tar.gzip': MEDIA_TYPE.ociLayerGzip,
  'application/vnd.docker.image.rootfs.diff.tar': MEDIA_TYPE.ociLayer,
};

/**
 * The most layers a ModelCar image may have: overlayfs stacks at most 500 lower layers (Linux
 * fs/overlayfs/params.h OVL_MAX_STACK), and a node that cannot mount the image cannot start it; the
 * margin leaves room for what a runtime stacks on top.
 */
export const MODELCAR_MAX_LAYERS = 450;
export const OVERLAYFS_MAX_STACK = 500;

/**
 * Refuses an image that would have more than MODELCAR_MAX_LAYERS layers. Small files already share
 * their folder's layer (planLayers), so what is left is many weights, large files or one-file folders.
 */
export function assertModelCarLayerCount(model: { layers: number; files: number }, baseLayers: number | undefined, base: string): void {
  const total = model.layers + (baseLayers ?? 0);
  if (total <= MODELCAR_MAX_LAYERS) return;
  const what = `${model.layers} model layers for ${model.files} packed files (each weight and each file of ${GROUP_MAX_FILE_BYTES / 1024 / 1024} MiB or more has its own; a folder's small files share one)`;
  const parts = baseLayers === undefined ? `${what}, before the base ${base}'s own` : `${what}, on ${baseLayers} from the base ${base}`;
  throw new ModelshipError(
    'MODEL_INVALID',
    `the ModelCar image would have ${baseLayers === undefined ? 'at least ' : ''}${total} layers (${parts}); ` +
      `overlayfs mounts at most ${OVERLAYFS_MAX_STACK} (OVL_MAX_STACK), so no node could start it, and modelship keeps ModelCar images at or under ${MODELCAR_MAX_LAYERS}. ` +
      `Weights and large files keep a layer each: merge weight shards into fewer files, gather files spread over many one-file folders into one folder, or pack without --modelcar`,
    { details: { layers: total, modelLayers: model.layers, modelFiles: model.files, ...(baseLayers === undefined ? {} : { baseLayers }), limit: MODELCAR_MAX_LAYERS, overlayfsMaxStack: OVERLAYFS_MAX_STACK } },
  );
}

const IMAGE_LAYER_BY_FORMAT = { tar: MEDIA_TYPE.ociLayer, 'tar+gzip': MEDIA_TYPE.ociLayerGzip, 'tar+zstd': MEDIA_TYPE.ociLayerZstd } as const;

/** The base's single-platform images to build on: the one asked for, else each of MODELCAR_PLATFORMS an index offers. */
async function baseImages(base: ModelCarBase): Promise<{ desc: Descriptor; platform?: Platform }[]> {
  const where = `base image ${base.target.location} (${base.reference})`;
  const resolved = await base.target.resolve(base.reference);
  if (base.platform) return [{ desc: await selectPlatform(base.target, resolved, base.platform, where), platform: base.platform }];
  if (!isIndexMediaType(resolved.mediaType)) return [{ desc: resolved }];
  const parsed = await fetchManifest(base.target, resolved, where);
  if (!('manifests' in parsed)) return [{ desc: resolved }];
  const picked = MODELCAR_PLATFORMS.flatMap((want) => {
    const entry = parsed.manifests.find((m) => m.platform?.os === want.os && m.platform.architecture === want.architecture);
    return entry ? [{ desc: entry, platform: entry.platform! }] : [];
  });
  // None of ours: the error names what the index lists.
  if (picked.length === 0) return [{ desc: await selectPlatform(base.target, resolved, DEFAULT_PLATFORM, where), platform: DEFAULT_PLATFORM }];
  return picked;
}

async function baseImage(base: ModelCarBase, desc: Descriptor): Promise<ImageManifest> {
  const where = `${base.target.location} (${base.reference})`;
  const parsed = await fetchManifest(base.target, desc, where);
  if ('manifests' in parsed) throw new ModelshipError('OCI_INVALID_MANIFEST', `base image ${where} is a nested index; give a single-platform image`);
  return parsed;
}

export async function buildModelCar(
  store: Target,
  base: ModelCarBase,
  model: { modelpack: Descriptor; files: PackedFile[]; created?: string },
): Promise<ModelCarResult> {
  const modelLayers: Descriptor[] = model.files.map((f) => {
    const format = parseLayerMediaType(f.layer.mediaType)?.format;
    // A folder layer of top-level files is named by the model folder itself.
    if (!format || format === 'raw' || !(f.tarEntry?.startsWith('models/') || f.tarEntry === 'models')) {
      throw new ModelshipError('MODEL_INVALID', `ModelCar layers must be tar layers under models/; ${f.path} is ${f.layer.mediaType}`);
    }
    return { mediaType: IMAGE_LAYER_BY_FORMAT[format], digest: f.layer.digest, size: f.layer.size };
  });
  const images: ModelCarImage[] = [];
  for (const { desc, platform } of await baseImages(base)) images.push(await platformImage(store, base, desc, platform, modelLayers, model));
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociIndex,
    // The images come first: platform matchers take the first runnable match.
    manifests: [
      ...images.map((i) => ({ mediaType: i.descriptor.mediaType, digest: i.descriptor.digest, size: i.descriptor.size, platform: i.platform })),
      { mediaType: model.modelpack.mediaType, digest: model.modelpack.digest, size: model.modelpack.size, ...(model.modelpack.artifactType ? { artifactType: model.modelpack.artifactType } : {}) },
    ],
  };
  const indexDesc = await pushManifest(store, index);
  return { image: images[0]!.descriptor, imageManifest: images[0]!.manifest, images, index: indexDesc };
}

/** One platform's image: the base's layers, then the model layers every platform shares. */
async function platformImage(
  store: Target,
  base: ModelCarBase,
  baseDesc: Descriptor,
  listed: Platform | undefined,
  modelLayers: Descriptor[],
  model: { files: PackedFile[]; created?: string },
): Promise<ModelCarImage> {
  const baseManifest = await baseImage(base, baseDesc);
  assertModelCarLayerCount({ layers: modelLayers.length, files: model.files.reduce((n, f) => n + (f.entries?.length ?? 1), 0) }, baseManifest.layers.length, `${base.target.location} (${base.reference})`);
  // The base's blobs join the store so the image is complete there.
  await copyGraph(base.target, store, baseDesc);
  const configBytes = await fetchManifestBytes(base.target, baseManifest.config, `${base.target.location} (base config)`);
  const baseConfig = JSON.parse(new TextDecoder().decode(configBytes)) as ImageConfig;
  const config: ImageConfig = {
    ...baseConfig,
    ...(model.created ? { created: model.created } : {}),
    rootfs: { type: 'layers', diff_ids: [...(baseConfig.rootfs?.diff_ids ?? []), ...model.files.map((f) => f.diffId)] },
    history: [...(baseConfig.history ?? []), ...model.files.map((f) => ({ created_by: `modelship: add models/${f.path === '.' ? '' : f.path}`, ...(model.created ? { created: model.created } : {}) }))],
  };
  const configDesc = await pushBytes(store, MEDIA_TYPE.ociConfig, new TextEncoder().encode(JSON.stringify(config)));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    config: configDesc,
    layers: [...baseManifest.layers.map((l) => ({ ...l, mediaType: DOCKER_TO_OCI_LAYER[l.mediaType] ?? l.mediaType })), ...modelLayers],
  };
  const descriptor = await pushManifest(store, manifest);
  // The base index's platform (with its variant) when it listed one, else what the base's config says.
  const platform: Platform = listed ?? { architecture: baseConfig.architecture ?? 'amd64', os: baseConfig.os ?? 'linux', ...(baseConfig.variant ? { variant: String(baseConfig.variant) } : {}) };
  return { descriptor, manifest, platform };
}
