/**
 * modules/store: the local model store (an OCI layout under $MODELSHIP_HOME) and reference opening.
 */
export { modelshipHome, openStore, storeReference, remoteOf } from './store.js';
export type { LocalStore } from './store.js';
export { listStore, removeReference, pruneStore } from './manage.js';
export type { StoreEntry, PruneResult } from './manage.js';
export { openArtifact, pullIntoStore, storeResolver, copyLocation, describeCopy, otherCopyOf, copiesDiffer, openCopy } from './open.js';
export type { OpenArtifactContext, OpenedArtifact, CopyChoice, CopyLocation, OtherCopy, OpenedCopy } from './open.js';
