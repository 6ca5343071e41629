/**
 * `pack`: a ModelSpec into a ModelPack artifact in a store, reproducibly (sorted files, constant
 * metadata, compact JSON, no creation time unless asked), reading each file once.
 */
import { ModelshipError } from '../errors/index.js';
import { ANNOTATION_CREATED, isWriteLeaser, type Descriptor, type ImageManifest, type Target } from '../oci/types.js';
import { pushBytes, pushManifest } from './content.js';
import { silentReporter, type Reporter } from '../progress/index.js';
import type { ModelSpec } from '../project/model-spec.js';
import { PackCache, type PackCacheStats } from './cache.js';
import { buildModelConfig, serializeConfig, validateModelConfig, type ModelPackConfig } from './config.js';
import { resolveSpecFiles } from './files.js';
import { warmHashPool } from './hash-pool.js';
import { packLayers, planLayers, type PackedFile } from './layers.js';
import { modelPackManifest } from './manifest.js';
import { assertModelCarLayerCount, buildModelCar, type ModelCarBase, type ModelCarResult } from './modelcar.js';
import { packModelKit, type ModelKitResult } from './modelkit.js';
import { ANNOTATION_MODCTL_MODELFILE, LAYER_FORMATS, MODEL_CONFIG_MEDIA_TYPE, type LayerFormat } from './mediatypes.js';

import { MODELCAR_PREFIX } from './read.js';

export { ANNOTATION_CREATED } from '../oci/types.js';
export { MODELCAR_PREFIX };

/** Stands in for the real diffIds when the spec's fields are checked before any file is read. */
const PLACEHOLDER_DIFF_ID = `sha256:${'0'.repeat(64)}`;

export interface PackOptions {
  /** Tag in the store for the result; none leaves it reachable by digest only. */
  tag?: string;
  layerFormat?: LayerFormat;
  /** RFC 3339 time for `descriptor.createdAt`; omitted keeps the build reproducible. */
  created?: string;
  /** Also build a runnable ModelCar image sharing the layer blobs; both are tied to `tag` by an index. */
  modelcar?: ModelCarBase;
  /** `modelkit` also writes a KitOps ModelKit, tagged `modelkitTag` (default `<tag>-modelkit`). */
  format?: 'modelpack' | 'modelkit';
  modelkitTag?: string;
  reporter?: Reporter;
  cache?: PackCache;
}

export interface PackResult {
  /** The ModelPack manifest. */
  descriptor: Descriptor;
  manifest: ImageManifest;
  config: ModelPackConfig;
  files: PackedFile[];
  /** What `tag` points at: the ModelPack manifest, or the index tying it to the ModelCar image. */
  tagged: Descriptor;
  stats: PackCacheStats;
  modelcar?: ModelCarResult;
  modelkit?: ModelKitResult;
}

export async function packModel(spec: ModelSpec, store: Target, opts: PackOptions = {}): Promise<PackResult> {
  // Under a write lease, a concurrent prune spares the blobs until the tag is written.
  return isWriteLeaser(store) ? store.hold(() => packUnderLease(spec, store, opts)) : packUnderLease(spec, store, opts);
}

async function packUnderLease(spec: ModelSpec, store: Target, opts: PackOptions): Promise<PackResult> {
  const reporter = opts.reporter ?? silentReporter;
  const requested = opts.layerFormat ?? 'raw';
  if (!LAYER_FORMATS.includes(requested)) {
    throw new ModelshipError('USAGE', `unknown layer format "${String(requested)}": use one of ${LAYER_FORMATS.join(', ')}`);
  }
  if (opts.created !== undefined && Number.isNaN(Date.parse(opts.created))) {
    throw new ModelshipError('USAGE', `--created "${opts.created}" is not an RFC 3339 time, e.g. 2025-01-31T12:00:00Z`);
  }
  // Check the spec's own fields before reading any file, so a bad paramSize costs nothing.
  validateModelConfig(buildModelConfig(spec, [PLACEHOLDER_DIFF_ID], opts.created ? { created: opts.created } : {}), { where: spec.source.file ?? spec.contextDir });
  const files = await resolveSpecFiles(spec);
  if (files.length === 0) {
    throw new ModelshipError('SPEC_INVALID', `${spec.source.file ?? spec.contextDir} names no files to pack under ${spec.contextDir}; add weights, docs or code to the spec`);
  }
  // A ModelCar's layers are mounted by overlayfs: a folder's small files share one, so thousands of files stay mountable.
  const group = Boolean(opts.modelcar);
  // Before any file is read: the layers alone may already be too many to mount; the base's count is checked once it is read.
  if (opts.modelcar) assertModelCarLayerCount({ layers: planLayers(files, group).length, files: files.length }, undefined, `${opts.modelcar.target.location} (${opts.modelcar.reference})`);
  const cache = opts.cache ?? new PackCache();
  // A ModelCar image needs tar layers whose entries sit under models/, so the same blobs serve both.
  const layerFormat: LayerFormat = opts.modelcar && requested === 'raw' ? 'tar' : requested;
  // Raw layers hash on worker threads: they start while the pack cache is read.
  if (layerFormat === 'raw') warmHashPool(files.map((f) => f.size));
  const packed = await packLayers(files, store, { format: layerFormat, prefix: opts.modelcar ? MODELCAR_PREFIX : '', cache, reporter, group });
  const config = buildModelConfig(
    spec,
    packed.map((f) => f.diffId),
    opts.created ? { created: opts.created } : {},
  );
  const layers = packed.map((f) => f.layer);
  validateModelConfig(config, { layers, where: 'the packed config' });
  const configBytes = serializeConfig(config);
  const configDesc = await pushBytes(store, MODEL_CONFIG_MEDIA_TYPE, configBytes);
  const annotations: Record<string, string> = {};
  if (opts.created) annotations[ANNOTATION_CREATED] = opts.created;
  if (spec.source.format === 'modelfile' && spec.originalText) annotations[ANNOTATION_MODCTL_MODELFILE] = spec.originalText;
  const manifest = modelPackManifest(configDesc, layers, annotations);
  const descriptor = await pushManifest(store, manifest);
  let tagged: Descriptor = descriptor;
  let modelcar: ModelCarResult | undefined;
  if (opts.modelcar) {
    modelcar = await buildModelCar(store, opts.modelcar, { modelpack: descriptor, files: packed, ...(opts.created ? { created: opts.created } : {}) });
    tagged = modelcar.index;
  }
  let modelkit: ModelKitResult | undefined;
  if (opts.format === 'modelkit') {
    modelkit = await packModelKit(spec, files, store, { ...(opts.created ? { created: opts.created } : {}), reporter });
    const kitTag = opts.modelkitTag ?? (opts.tag ? `${opts.tag}-modelkit` : undefined);
    if (kitTag) await store.tag(modelkit.descriptor, kitTag);
  }
  if (opts.tag) await store.tag(tagged, opts.tag);
  return { descriptor, manifest, config, files: packed, tagged, stats: cache.stats, ...(modelcar ? { modelcar } : {}), ...(modelkit ? { modelkit } : {}) };
}
