/**
 * modules/modelpack: write ModelPack artifacts (with ModelKit and ModelCar views) and read any model artifact.
 */
export { packModel, ANNOTATION_CREATED, MODELCAR_PREFIX } from './pack.js';
export type { PackOptions, PackResult } from './pack.js';
export { packLayers, planLayers, packedFilesOf, formatFor, fileMetadata, ANNOTATION_FILE_DIGEST, GROUP_MAX_FILE_BYTES } from './layers.js';
export type { PackedFile, PackedEntry, LayerOptions, LayerPlan } from './layers.js';
export { folderEntriesOf, ANNOTATION_FILE_ENTRIES } from './entries.js';
export { PackCache } from './cache.js';
export type { CachedLayer, PackCacheStats } from './cache.js';
export { resolveSpecFiles } from './files.js';
export type { ResolvedFile } from './files.js';
export { parsePatterns, isIgnored, globToRegExp } from '../project/ignore.js';
export type { PathPattern } from '../project/ignore.js';
export { tarStream, normalisedMode, TAR_EPOCH } from './tar.js';
export type { TarFileEntry, TarResult } from './tar.js';
export { compressor, decompressor, compressionOf } from './compress.js';
export type { Compression } from './compress.js';
export { ingestStream } from './ingest.js';
export { buildModelCar, MODELCAR_PLATFORMS } from './modelcar.js';
export type { ModelCarBase, ModelCarImage, ModelCarResult } from './modelcar.js';
export { hostBusyboxBase, elfPlatform, HOST_BUSYBOX_PATH, MODELCAR_APPLETS } from './host-busybox.js';
export type { HostBusyboxBase } from './host-busybox.js';
export { packModelKit, MODELKIT_ARTIFACT_TYPE, MODELKIT_CONFIG_MEDIA_TYPE, modelKitLayerMediaType } from './modelkit.js';
export type { ModelKitResult, ModelKitLayerKind } from './modelkit.js';
export { readArtifact, detectFormat, artifactFiles, modelRootOf, unpackedSize } from './read.js';
export type { ArtifactFormat, ArtifactFile, ModelArtifactView } from './read.js';
export { unpack, unpackView, parseUnpackFilter, safeRelativePath, UNPACK_FILTER_KINDS } from './unpack.js';
export type { UnpackFilter, UnpackFilterKind, UnpackOptions, UnpackResult, UnpackedFile } from './unpack.js';
export * from './mediatypes.js';
export { buildModelConfig, serializeConfig, validateModelConfig, parseModelConfig, modelConfigProblems } from './config.js';
export type { ModelPackConfig } from './config.js';
