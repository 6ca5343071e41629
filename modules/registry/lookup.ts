/**
 * What a model registry records for a digest: the registered model, the version and its model
 * artifact, found by the digest property registering writes, never by a name (which anyone may reuse).
 */
import { ModelshipError, hasCode } from '../errors/index.js';
import { DIGEST_PROPERTY } from './register.js';
import type { CustomProperties, ModelArtifact, ModelVersion, RegisteredModel, RegistryReader } from './wire.js';

export interface DigestRecord {
  registeredModel: RegisteredModel;
  modelVersion: ModelVersion;
  /** The version's model artifact pinned to the digest; undefined when the version has none. */
  modelArtifact?: ModelArtifact;
  /** The digest the version records (it differs from the one looked up when a label named another version). */
  recordedDigest?: string;
}

/** A hostile or huge registry cannot make a lookup page forever. */
const MAX_PAGES = 20;

/** `oci.digest` = 'sha256:…': the digest is checked first, so nothing but hex reaches the query. */
export function digestFilterQuery(digest: string): string {
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new ModelshipError('INPUT_INVALID', `${digest} is not a sha256:<64 hex> digest`);
  return `\`${DIGEST_PROPERTY}\` = '${digest}'`;
}

/**
 * The versions that record `digest`; with `modelVersionId` (the InferenceService's label) that version
 * alone, whatever digest it records, so a caller can tell a label that points elsewhere.
 */
export async function recordsOfDigest(reader: RegistryReader, digest: string, modelVersionId?: string): Promise<DigestRecord[]> {
  const versions: ModelVersion[] = [];
  if (modelVersionId !== undefined) {
    const version = await reader.getModelVersion(modelVersionId).catch((err: unknown) => {
      if (hasCode(err, 'MODEL_REGISTRY_NOT_FOUND')) return undefined;
      throw err;
    });
    if (version) versions.push(version);
  } else {
    const filter = digestFilterQuery(digest);
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await reader.findModelVersions(filter, { pageSize: 100, ...(token ? { nextPageToken: token } : {}) });
      versions.push(...page.items);
      token = page.nextPageToken || undefined;
    } while (token && ++pages < MAX_PAGES);
  }
  const records: DigestRecord[] = [];
  for (const version of versions) {
    const registeredModel = await reader.getRegisteredModel(version.registeredModelId);
    const modelArtifact = await artifactOf(reader, version.id, digest);
    const recordedDigest = digestIn(version.customProperties) ?? (modelArtifact ? digest : undefined);
    records.push({ registeredModel, modelVersion: version, ...(modelArtifact ? { modelArtifact } : {}), ...(recordedDigest ? { recordedDigest } : {}) });
  }
  return records;
}

async function artifactOf(reader: RegistryReader, versionId: string, digest: string): Promise<ModelArtifact | undefined> {
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await reader.listModelVersionArtifacts(versionId, { pageSize: 100, ...(token ? { nextPageToken: token } : {}) });
    const hit = page.items.find((a) => digestIn(a.customProperties) === digest || a.uri?.endsWith(`@${digest}`));
    if (hit) return hit;
    token = page.nextPageToken || undefined;
  } while (token && ++pages < MAX_PAGES);
  return undefined;
}

/** A custom property's string value. */
export function stringProperty(properties: CustomProperties | undefined, key: string): string | undefined {
  const value = properties?.[key];
  return value?.metadataType === 'MetadataStringValue' ? value.string_value : undefined;
}

function digestIn(properties: CustomProperties | undefined): string | undefined {
  return stringProperty(properties, DIGEST_PROPERTY);
}
