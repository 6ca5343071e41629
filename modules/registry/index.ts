/**
 * modules/registry: the Kubeflow Model Registry (REST v1alpha3). A client for a remote registry,
 * an embedded one (SQLite under $MODELSHIP_HOME) that speaks the same API, and idempotent registering.
 */
import { join } from 'node:path';
import { homedir } from 'node:os';
import type { RegisterModelVersion } from './contract.js';
import { ModelRegistryClient } from './client.js';
import { embeddedDatabasePath, openRegistryDatabase } from './database.js';
import { registerModelVersion } from './register.js';
import { recordsOfDigest, type DigestRecord } from './lookup.js';
import { pathExists } from '../fs/exists.js';

export type { RegisterInput, RegisterResult, RegisterModelVersion } from './contract.js';
export { registerModelVersion, DIGEST_PROPERTY } from './register.js';
export { ModelRegistryClient, apiRoot } from './client.js';
export type { ModelRegistryClientOptions } from './client.js';
export { openRegistryDatabase, embeddedDatabasePath, RegistryDatabase, DEFAULT_PAGE_SIZE } from './database.js';
export type { EntityKind } from './database.js';
export { startRegistryServer } from './server.js';
export type { RegistryServerOptions, RunningRegistryServer, RegistryExchange } from './server.js';
export { API_BASE_PATH, API_V1_PATH, stringProperties } from './wire.js';
export type * from './wire.js';

export interface RegisterModelVersionOptions {
  /** A remote registry's URL; without it the embedded registry under `home` is used. */
  url?: string;
  token?: string;
  /** MODELSHIP_HOME (default ~/.modelship). */
  home?: string;
  fetch?: typeof fetch;
}

/** The function the hand-off calls: remote when a URL is given, else the embedded database. */
export function createRegisterModelVersion(options: RegisterModelVersionOptions): RegisterModelVersion {
  if (options.url) {
    const client = new ModelRegistryClient(options.url, { ...(options.token ? { token: options.token } : {}), ...(options.fetch ? { fetch: options.fetch } : {}) });
    return (input) => registerModelVersion(client, input);
  }
  const path = embeddedDatabasePath(options.home ?? join(homedir(), '.modelship'));
  return async (input) => {
    const db = await openRegistryDatabase(path);
    try {
      return await registerModelVersion(db, input);
    } finally {
      db.close();
    }
  };
}
export { registerInputOfArtifact, PROPERTY } from './artifact.js';
export { recordsOfDigest, digestFilterQuery, stringProperty } from './lookup.js';
export type { DigestRecord } from './lookup.js';

export interface DigestLookupOptions extends RegisterModelVersionOptions {
  /** The version the InferenceService's label names, looked up by id instead of by digest. */
  modelVersionId?: string;
}

/** What the registry (remote with a URL, else the embedded one) records for `digest`, and where it looked. */
export async function lookUpDigest(options: DigestLookupOptions, digest: string): Promise<{ registry: string; records: DigestRecord[] }> {
  if (options.url) {
    const client = new ModelRegistryClient(options.url, { ...(options.token ? { token: options.token } : {}), ...(options.fetch ? { fetch: options.fetch } : {}), attempts: 2 });
    return { registry: client.location, records: await recordsOfDigest(client, digest, options.modelVersionId) };
  }
  const path = embeddedDatabasePath(options.home ?? join(homedir(), '.modelship'));
  // Looking up never creates the embedded registry: none there records nothing.
  if (!(await pathExists(path))) return { registry: `embedded:${path}`, records: [] };
  const db = await openRegistryDatabase(path);
  try {
    return { registry: db.location, records: await recordsOfDigest(db, digest, options.modelVersionId) };
  } finally {
    db.close();
  }
}
export type { ArtifactToRegister } from './artifact.js';
