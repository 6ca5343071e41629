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
import { MEDIA_TYPE, type Descriptor, type ImageIndex, type ImageManifest, type Platform, type ReadOnlyTarget, type Target } from '../oci/types.js';
import type { PackedFile } from './layers.js';
import { parseLayerMediaType } from './mediatypes.js';
import { pushBytes, pushManifest } from './content.js';

export interface ModelCarBase {
  /** Where the base image lives (a layout, the store, or a registry). */
  target: ReadOnlyTarget;
  /** Tag or digest of the base image on `target`. */
  reference: string;
  /** Platform to pick from a multi-platform base; default linux/amd64. */
  platform?: Platform;
}

export interface ModelCarResult {
  image: Descriptor;
  imageManifest: ImageManifest;
  /** The index listing the image (with its platform) and the ModelPack manifest. */
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

const IMAGE_LAYER_BY_FORMAT = { tar: MEDIA_TYPE.ociLayer, 'tar+gzip': MEDIA_TYPE.ociLayerGzip, 'tar+zstd': MEDIA_TYPE.ociLayerZstd } as const;

async function baseImage(base: ModelCarBase): Promise<{ desc: Descriptor; manifest: ImageManifest }> {
  const where = `${base.target.location} (${base.reference})`;
  const desc = await selectPlatform(base.target, await base.target.resolve(base.reference), base.platform ?? DEFAULT_PLATFORM, `base image ${where}`);
  const parsed = await fetchManifest(base.target, desc, where);
  if ('manifests' in parsed) throw new ModelshipError('OCI_INVALID_MANIFEST', `base image ${where} is a nested index; give a single-platform image`);
  return { desc, manifest: parsed };
}

export async function buildModelCar(
  store: Target,
  base: ModelCarBase,
  model: { modelpack: Descriptor; files: PackedFile[]; created?: string },
): Promise<ModelCarResult> {
  const { desc: baseDesc, manifest: baseManifest } = await baseImage(base);
  // The base's blobs join the store so the image is complete there.
  await copyGraph(base.target, store, baseDesc);
  const configBytes = await fetchManifestBytes(base.target, baseManifest.config, `${base.target.location} (base config)`);
  const baseConfig = JSON.parse(new TextDecoder().decode(configBytes)) as ImageConfig;
  const modelLayers: Descriptor[] = model.files.map((f) => {
    const format = parseLayerMediaType(f.layer.mediaType)?.format;
    if (!format || format === 'raw' || !f.tarEntry?.startsWith('models/')) {
      throw new ModelshipError('MODEL_INVALID', `ModelCar layers must be tar layers under models/; ${f.path} is ${f.layer.mediaType}`);
    }
    return { mediaType: IMAGE_LAYER_BY_FORMAT[format], digest: f.layer.digest, size: f.layer.size };
  });
  const config: ImageConfig = {
    ...baseConfig,
    ...(model.created ? { created: model.created } : {}),
    rootfs: { type: 'layers', diff_ids: [...(baseConfig.rootfs?.diff_ids ?? []), ...model.files.map((f) => f.diffId)] },
    history: [...(baseConfig.history ?? []), ...model.files.map((f) => ({ created_by: `modelship: add models/${f.path}`, ...(model.created ? { created: model.created } : {}) }))],
  };
  const configDesc = await pushBytes(store, MEDIA_TYPE.ociConfig, new TextEncoder().encode(JSON.stringify(config)));
  const imageManifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    config: configDesc,
    layers: [...baseManifest.layers.map((l) => ({ ...l, mediaType: DOCKER_TO_OCI_LAYER[l.mediaType] ?? l.mediaType })), ...modelLayers],
  };
  const image = await pushManifest(store, imageManifest);
  const platform: Platform = { architecture: baseConfig.architecture ?? 'amd64', os: baseConfig.os ?? 'linux' };
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociIndex,
    // The image comes first: platform matchers take the first runnable match.
    manifests: [
      { mediaType: image.mediaType, digest: image.digest, size: image.size, platform },
      { mediaType: model.modelpack.mediaType, digest: model.modelpack.digest, size: model.modelpack.size, ...(model.modelpack.artifactType ? { artifactType: model.modelpack.artifactType } : {}) },
    ],
  };
  const indexDesc = await pushManifest(store, index);
  return { image, imageManifest, index: indexDesc };
}
