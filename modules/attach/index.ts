/**
 * modules/attach: documents on the artifact. Reads a packed model as a project (facts for cards,
 * MOF and SBOMs without fetching weights) and attaches each document as an OCI referrer.
 */
export { attachDocument, findAttached, attachedLine, TITLE_ANNOTATION, CREATED_ANNOTATION } from './document.js';
export type { DocumentToAttach, AttachDocumentOptions } from './document.js';
export { withArtifactProject, layerPath, modelPath, modelFilesOf, isFetchedForFacts, MAX_FETCHED_LAYER_BYTES } from './artifact.js';
export type { ArtifactProject } from './artifact.js';
export { projectViewOfArtifact } from './facts.js';
export { sbomInputOfArtifact } from './sbom.js';
export { documentSource, attachNeedsReference } from './argument.js';
export type { DocumentSource } from './argument.js';
export { referrerKindName } from './names.js';
