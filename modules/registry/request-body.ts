/**
 * The request bodies the Kubeflow Model Registry server takes, checked as it checks them: unknown
 * fields refused (Go's `DisallowUnknownFields` in internal/server/openapi/api_model_registry_service.go),
 * enum `state`s refused on unmarshal (pkg/openapi/model_*_state.go), metadata values typed as in the
 * published schema (`int_value` a string of at most 9 digits, `string_value` a string). Field tables
 * follow api/openapi/model-registry.yaml v1alpha3; a test compares them with the vendored document.
 */
import { ModelshipError } from '../errors/index.js';

type FieldType = 'string' | 'string[]' | 'customProperties' | 'registeredModelState' | 'modelVersionState' | 'artifactState';

export const REGISTERED_MODEL_STATES = ['LIVE', 'ARCHIVED'] as const;
export const MODEL_VERSION_STATES = ['LIVE', 'ARCHIVED'] as const;
export const ARTIFACT_STATES = ['UNKNOWN', 'PENDING', 'LIVE', 'MARKED_FOR_DELETION', 'DELETED', 'ABANDONED', 'REFERENCE'] as const;

const BASE: Record<string, FieldType> = { customProperties: 'customProperties', description: 'string', externalId: 'string' };
const READ_ONLY: Record<string, FieldType> = { id: 'string', createTimeSinceEpoch: 'string', lastUpdateTimeSinceEpoch: 'string' };
const REGISTERED_MODEL_UPDATE: Record<string, FieldType> = {
  ...BASE, readme: 'string', maturity: 'string', language: 'string[]', tasks: 'string[]', provider: 'string', logo: 'string',
  license: 'string', licenseLink: 'string', libraryName: 'string', owner: 'string', state: 'registeredModelState',
};
const MODEL_VERSION_UPDATE: Record<string, FieldType> = { ...BASE, state: 'modelVersionState', author: 'string' };
const MODEL_ARTIFACT_UPDATE: Record<string, FieldType> = {
  ...BASE, artifactType: 'string', modelFormatName: 'string', storageKey: 'string', storagePath: 'string', modelFormatVersion: 'string',
  serviceAccountName: 'string', modelSourceKind: 'string', modelSourceClass: 'string', modelSourceGroup: 'string', modelSourceId: 'string',
  modelSourceName: 'string', uri: 'string', state: 'artifactState',
};

/** The schema each route's body follows, by its name in the OpenAPI document. */
export const REQUEST_BODY_FIELDS = {
  RegisteredModelCreate: { ...REGISTERED_MODEL_UPDATE, name: 'string' },
  RegisteredModelUpdate: REGISTERED_MODEL_UPDATE,
  ModelVersionCreate: { ...MODEL_VERSION_UPDATE, name: 'string', registeredModelId: 'string' },
  ModelVersion: { ...MODEL_VERSION_UPDATE, name: 'string', registeredModelId: 'string', ...READ_ONLY },
  ModelVersionUpdate: MODEL_VERSION_UPDATE,
  ModelArtifact: { ...MODEL_ARTIFACT_UPDATE, name: 'string', experimentId: 'string', experimentRunId: 'string', ...READ_ONLY },
  ModelArtifactUpdate: MODEL_ARTIFACT_UPDATE,
} satisfies Record<string, Record<string, FieldType>>;

export type RequestBodySchema = keyof typeof REQUEST_BODY_FIELDS;

const STATES: Record<string, readonly string[]> = {
  registeredModelState: REGISTERED_MODEL_STATES,
  modelVersionState: MODEL_VERSION_STATES,
  artifactState: ARTIFACT_STATES,
};

/** Refuses a body the upstream server would refuse (400), naming the field. */
export function checkRequestBody(schema: RequestBodySchema, body: Record<string, unknown>): void {
  const fields: Record<string, FieldType> = REQUEST_BODY_FIELDS[schema];
  for (const [key, value] of Object.entries(body)) {
    const type = fields[key];
    if (!type) throw badRequest(`json: unknown field "${key}" (a ${schema} has ${Object.keys(fields).join(', ')})`);
    if (value === null) continue;
    checkField(key, type, value);
  }
}

function checkField(key: string, type: FieldType, value: unknown): void {
  switch (type) {
    case 'string':
      if (typeof value !== 'string') throw badRequest(`"${key}" must be a string`);
      return;
    case 'string[]':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw badRequest(`"${key}" must be an array of strings`);
      return;
    case 'customProperties':
      checkCustomProperties(value);
      return;
    default: {
      const allowed = STATES[type]!;
      if (typeof value !== 'string' || !allowed.includes(value)) throw badRequest(`"${key}" ${JSON.stringify(value)} is not a valid state: use one of ${allowed.join(', ')}`);
    }
  }
}

const METADATA_VALUE_FIELDS: Record<string, Record<string, (v: unknown) => boolean>> = {
  MetadataStringValue: { string_value: (v) => typeof v === 'string' },
  // int32 as a string, as the published schema's pattern says.
  MetadataIntValue: { int_value: (v) => typeof v === 'string' && /^-?([1-9][0-9]{0,8}|0)$/.test(v) },
  MetadataDoubleValue: { double_value: (v) => typeof v === 'number' && Number.isFinite(v) },
  MetadataBoolValue: { bool_value: (v) => typeof v === 'boolean' },
  MetadataStructValue: { struct_value: isBase64 },
  MetadataProtoValue: { type: (v) => typeof v === 'string', proto_value: isBase64 },
};

const METADATA_SHAPES: Record<string, string> = {
  MetadataStringValue: '"string_value": "text"',
  MetadataIntValue: '"int_value": "42" (a string of at most 9 digits)',
  MetadataDoubleValue: '"double_value": 0.5',
  MetadataBoolValue: '"bool_value": true',
  MetadataStructValue: '"struct_value": "<base64>"',
  MetadataProtoValue: '"type": "<url>", "proto_value": "<base64>"',
};

function isBase64(v: unknown): boolean {
  return typeof v === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(v);
}

/** `customProperties`: an object of metadata values, each exactly as the published schema allows. */
export function checkCustomProperties(value: unknown): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest('"customProperties" must be an object of metadata values');
  for (const [key, v] of Object.entries(value)) {
    const type = (v as { metadataType?: unknown } | null)?.metadataType;
    const fields = typeof type === 'string' ? METADATA_VALUE_FIELDS[type] : undefined;
    if (!fields || typeof v !== 'object' || v === null) {
      throw badRequest(`customProperties.${key}: metadataType must be one of ${Object.keys(METADATA_VALUE_FIELDS).join(', ')}`);
    }
    const shape = `{"metadataType": "${type as string}", ${METADATA_SHAPES[type as string]}}`;
    for (const field of Object.keys(v)) {
      if (field !== 'metadataType' && !(field in fields)) throw badRequest(`customProperties.${key}: unknown field "${field}"; a ${type as string} is ${shape}`);
    }
    for (const [field, ok] of Object.entries(fields)) {
      if (!ok((v as Record<string, unknown>)[field])) throw badRequest(`customProperties.${key}.${field} is ${JSON.stringify((v as Record<string, unknown>)[field]) ?? 'missing'}; a ${type as string} is ${shape}`);
    }
  }
}

function badRequest(message: string): ModelshipError {
  return new ModelshipError('MODEL_REGISTRY_BAD_REQUEST', message);
}
