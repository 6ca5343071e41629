/**
 * The Kubeflow Model Registry REST API (v1alpha3) as modelship speaks it: the entities, lists and
 * query parameters of the part it uses (registered models, model versions, model artifacts).
 */

import type { FilterCondition } from './filter-query.js';

export const API_BASE_PATH = '/api/model_registry/v1alpha3';
/** The same API under the path Kubeflow's Python client 0.3.18 (PyPI model-registry) calls. */
export const API_V1_PATH = '/api/model_registry/v1';

export type MetadataValue =
  | { metadataType: 'MetadataStringValue'; string_value: string }
  | { metadataType: 'MetadataIntValue'; int_value: string }
  | { metadataType: 'MetadataDoubleValue'; double_value: number }
  | { metadataType: 'MetadataBoolValue'; bool_value: boolean }
  | { metadataType: 'MetadataStructValue'; struct_value: string }
  | { metadataType: 'MetadataProtoValue'; type: string; proto_value: string };

export type CustomProperties = Record<string, MetadataValue>;

/** Fields every stored entity has; ids and times are digit strings. */
export interface Resource {
  id: string;
  name: string;
  description?: string;
  externalId?: string;
  customProperties?: CustomProperties;
  createTimeSinceEpoch: string;
  lastUpdateTimeSinceEpoch: string;
}

export type EntityState = 'LIVE' | 'ARCHIVED';

export interface RegisteredModel extends Resource {
  owner?: string;
  state?: EntityState;
}

export interface ModelVersion extends Resource {
  registeredModelId: string;
  author?: string;
  state?: EntityState;
}

export interface ModelArtifact extends Resource {
  artifactType: 'model-artifact';
  uri?: string;
  modelFormatName?: string;
  modelFormatVersion?: string;
  state?: string;
}

export interface RegisteredModelCreate {
  name: string;
  description?: string;
  externalId?: string;
  owner?: string;
  customProperties?: CustomProperties;
}

export interface ModelVersionCreate {
  name: string;
  registeredModelId: string;
  description?: string;
  externalId?: string;
  author?: string;
  customProperties?: CustomProperties;
}

/** The body of `POST /model_versions/{id}/artifacts`: with `id`, the existing artifact is updated. */
export interface ModelArtifactUpsert {
  artifactType: 'model-artifact';
  id?: string;
  name?: string;
  description?: string;
  uri?: string;
  modelFormatName?: string;
  modelFormatVersion?: string;
  customProperties?: CustomProperties;
}

export interface ListPage<T> {
  items: T[];
  /** Empty when this is the last page. */
  nextPageToken: string;
  pageSize: number;
  size: number;
}

export const ORDER_BY_FIELDS = ['ID', 'CREATE_TIME', 'LAST_UPDATE_TIME'] as const;
export type OrderByField = (typeof ORDER_BY_FIELDS)[number];
export const SORT_ORDERS = ['ASC', 'DESC'] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];

export interface ListQuery {
  pageSize?: number;
  /** Parsed `filterQuery` conditions, all of which must hold. */
  filter?: FilterCondition[];
  nextPageToken?: string;
  orderBy?: OrderByField;
  sortOrder?: SortOrder;
}

/** The operations registering needs; the remote client and the embedded database both provide them. */
export interface ModelRegistryApi {
  /** "embedded:<path>" or the base URL. */
  readonly location: string;
  findRegisteredModel(name: string): Promise<RegisteredModel | undefined>;
  createRegisteredModel(body: RegisteredModelCreate): Promise<RegisteredModel>;
  findModelVersion(name: string, registeredModelId: string): Promise<ModelVersion | undefined>;
  createModelVersion(body: ModelVersionCreate): Promise<ModelVersion>;
  listModelVersionArtifacts(modelVersionId: string, query?: ListQuery): Promise<ListPage<ModelArtifact>>;
  upsertModelVersionArtifact(modelVersionId: string, body: ModelArtifactUpsert): Promise<ModelArtifact>;
}

/** The reads that find what a registry records for a digest; the remote client and the embedded database both provide them. */
export interface RegistryReader {
  readonly location: string;
  /** Versions across all registered models that a `filterQuery` matches. */
  findModelVersions(filterQuery: string, query?: ListQuery): Promise<ListPage<ModelVersion>>;
  getModelVersion(id: string): Promise<ModelVersion>;
  getRegisteredModel(id: string): Promise<RegisteredModel>;
  listModelVersionArtifacts(modelVersionId: string, query?: ListQuery): Promise<ListPage<ModelArtifact>>;
}

export function stringProperties(properties: Record<string, string>): CustomProperties {
  return Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, { metadataType: 'MetadataStringValue', string_value: v }]));
}
