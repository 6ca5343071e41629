/**
 * modules/gguf: reading (and for tests, writing) GGUF model files.
 */
export { readGgufHeader, validateGguf, ggufModelInfo, GGUF_FILE_TYPES, GGUF_MAGIC, GGUF_VALUE_TYPES } from './reader.js';
export type { GgufHeader, GgufTensorInfo, GgufValue, GgufArray, GgufValueType, GgufModelInfo, ReadGgufOptions } from './reader.js';
export { writeTinyModel, CANNED_SENTENCE } from './writer.js';
export type { TinyModelOptions, TinyModelInfo, ModelShape } from './writer.js';
