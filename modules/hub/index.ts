/**
 * modules/hub: import models from the Hugging Face Hub (or a mirror) into the store as ModelPack artifacts.
 */
export { importFromHub, selectFiles, defaultImportTag } from './import.js';
export type { ImportOptions, ImportResult, ImportedFile } from './import.js';
export { connectionFromEnv, listCommitFiles, resolveCommit, hubFileOf } from './client.js';
export type { HubConnection, HubFile } from './client.js';
export { downloadToStore, resolveUrl } from './download.js';
export { parseHubSource, parseHubSourceUri, hubSourceUri, huggingfacePurl, hubPage, isCommitSha, ANNOTATION_HF_SOURCE, DEFAULT_HF_ENDPOINT } from './source.js';
export type { HubSource } from './source.js';
