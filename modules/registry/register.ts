/**
 * Idempotent registration: find or create the registered model and the version, then upsert the
 * model artifact. Running it twice with the same input creates nothing and returns the same ids.
 */
import { hasCode, ModelshipError } from '../errors/index.js';
import type { RegisterInput, RegisterResult } from './contract.js';
import { stringProperties, type CustomProperties, type ModelArtifact, type ModelArtifactUpsert, type ModelRegistryApi, type ModelVersion } from './wire.js';

/** Custom property that carries the pinned manifest digest on the version and the artifact. */
export const DIGEST_PROPERTY = 'oci.digest';

export async function registerModelVersion(api: ModelRegistryApi, input: RegisterInput): Promise<RegisterResult> {
  checkInput(input);
  const model = await findOrCreate(
    () => api.findRegisteredModel(input.name),
    () => api.createRegisteredModel({ name: input.name, ...(input.description ? { description: input.description } : {}), ...(input.author ? { owner: input.author } : {}) }),
  );
  const version = await findOrCreate<ModelVersion>(
    () => api.findModelVersion(input.version, model.entity.id),
    () =>
      api.createModelVersion({
        name: input.version,
        registeredModelId: model.entity.id,
        ...(input.author ? { author: input.author } : {}),
        customProperties: stringProperties({ [DIGEST_PROPERTY]: input.digest }),
      }),
  );
  if (!version.created) refuseAnotherDigest(input, version.entity.customProperties, undefined);
  const wanted = artifactBody(input);
  // A new version has no artifact yet: the upstream client's five calls, no list in between.
  let fresh = version.created;
  const found = await findOrCreate(
    async () => (fresh ? ((fresh = false), undefined) : findModelArtifact(api, version.entity.id, wanted.name!)),
    () => api.upsertModelVersionArtifact(version.entity.id, wanted),
  );
  if (!found.created) refuseAnotherDigest(input, undefined, found.entity);
  let artifact = found.entity;
  // Properties others added to the artifact stay; the ones registering owns are rewritten.
  if (!found.created && !sameArtifact(artifact, wanted)) {
    artifact = await api.upsertModelVersionArtifact(version.entity.id, { ...wanted, id: artifact.id, customProperties: { ...artifact.customProperties, ...wanted.customProperties } });
  }
  return {
    registeredModelId: model.entity.id,
    modelVersionId: version.entity.id,
    modelArtifactId: artifact.id,
    created: { registeredModel: model.created, modelVersion: version.created, modelArtifact: found.created },
    registry: api.location,
  };
}

/** What `modelFormatVersion` says when the caller gives none: KServe's runtimes list their formats as version "1". */
export const DEFAULT_MODEL_FORMAT_VERSION = '1';

/**
 * A version names one artifact. The upstream python client refuses any existing version ("Version v1
 * already exists"); re-running the same registration stays idempotent here, but another digest under
 * the same version name is refused, so the registry never disagrees with itself.
 */
function refuseAnotherDigest(input: RegisterInput, versionProperties: CustomProperties | undefined, artifact: ModelArtifact | undefined): void {
  const recorded = digestIn(versionProperties) ?? digestIn(artifact?.customProperties) ?? (artifact?.uri?.includes('@') ? artifact.uri.slice(artifact.uri.lastIndexOf('@') + 1) : undefined);
  if (recorded === undefined || recorded === input.digest) return;
  throw new ModelshipError(
    'MODEL_REGISTRY_VERSION_EXISTS',
    `model version "${input.version}" of "${input.name}" already exists for ${recorded}, not ${input.digest}; a version names one artifact, so it is left as it is: register this digest under a new version name (a new tag, or --version)`,
    { details: { name: input.name, version: input.version, recorded, digest: input.digest } },
  );
}

function digestIn(properties: CustomProperties | undefined): string | undefined {
  const value = properties?.[DIGEST_PROPERTY];
  return value?.metadataType === 'MetadataStringValue' ? value.string_value : undefined;
}

function checkInput(input: RegisterInput): void {
  const bad = (['name', 'version', 'uri', 'digest'] as const).filter((k) => typeof input[k] !== 'string' || input[k].trim() === '');
  if (bad.length) throw new ModelshipError('INPUT_INVALID', `cannot register a model version without ${bad.join(', ')}`);
  if (!/^sha256:[0-9a-f]{64}$/.test(input.digest)) throw new ModelshipError('INPUT_INVALID', `digest ${input.digest} is not sha256:<64 hex>`);
  if (!input.uri.startsWith('oci://') || !input.uri.endsWith(`@${input.digest}`)) {
    throw new ModelshipError('INPUT_INVALID', `uri ${input.uri} must be oci://host/repository@${input.digest}, pinned to the digest, never a tag`);
  }
}

/** Find, else create; a create that loses a race to another writer (409) finds the winner's entity. */
async function findOrCreate<T>(find: () => Promise<T | undefined>, create: () => Promise<T>): Promise<{ entity: T; created: boolean }> {
  const found = await find();
  if (found) return { entity: found, created: false };
  try {
    return { entity: await create(), created: true };
  } catch (err) {
    if (!hasCode(err, 'MODEL_REGISTRY_CONFLICT')) throw err;
    const winner = await find();
    if (!winner) throw err;
    return { entity: winner, created: false };
  }
}

function artifactBody(input: RegisterInput): ModelArtifactUpsert {
  const properties: Record<string, string> = { ...input.properties, [DIGEST_PROPERTY]: input.digest };
  return {
    artifactType: 'model-artifact',
    // Named after the model, as the reference Python client names it.
    name: input.name,
    uri: input.uri,
    ...(input.modelFormatName ? { modelFormatName: input.modelFormatName } : {}),
    // The upstream client's register_model requires it; clients that read the artifact expect it.
    modelFormatVersion: input.modelFormatVersion || DEFAULT_MODEL_FORMAT_VERSION,
    ...(input.description ? { description: input.description } : {}),
    customProperties: stringProperties(properties),
  };
}

async function findModelArtifact(api: ModelRegistryApi, versionId: string, name: string): Promise<ModelArtifact | undefined> {
  let token: string | undefined;
  do {
    const page = await api.listModelVersionArtifacts(versionId, { pageSize: 100, ...(token ? { nextPageToken: token } : {}) });
    const hit = page.items.find((a) => a.artifactType === 'model-artifact' && a.name === name);
    if (hit) return hit;
    token = page.nextPageToken || undefined;
  } while (token);
  return undefined;
}

function sameArtifact(existing: ModelArtifact, wanted: ModelArtifactUpsert): boolean {
  return (
    existing.uri === wanted.uri &&
    existing.modelFormatName === wanted.modelFormatName &&
    existing.modelFormatVersion === wanted.modelFormatVersion &&
    sameProperties(existing.customProperties ?? {}, wanted.customProperties ?? {})
  );
}

/** Every property registering writes already holds that value (others may be present too). */
function sameProperties(existing: CustomProperties, wanted: CustomProperties): boolean {
  return Object.keys(wanted).every((k) => JSON.stringify(existing[k]) === JSON.stringify(wanted[k]));
}
