/**
 * modules/trace: from what runs in the cluster (an InferenceService or its storageUri) back through
 * the artifact, the model registry's record, the signatures, SBOM, MOF class and source.
 */
export { trace, LINK_NAMES } from './trace.js';
export type { TraceLink, TraceResult, TraceOptions, TracePolicy, LinkName, LinkStatus, OpenedArtifactCopy } from './trace.js';
export { readTraceInput, parseStorageUri } from './input.js';
export type { TraceInput } from './input.js';
export { brokenLine, renderTrace } from './render.js';
