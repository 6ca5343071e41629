/**
 * A client for a Kubeflow Model Registry (REST v1alpha3): Bearer token, retries with backoff on
 * 5xx and network failures, and a coded error naming the URL for every other failure.
 */
import { ModelshipError, describeError } from '../errors/index.js';
import {
  API_BASE_PATH,
  type ListPage,
  type ListQuery,
  type ModelArtifact,
  type ModelArtifactUpsert,
  type ModelRegistryApi,
  type ModelVersion,
  type ModelVersionCreate,
  type RegisteredModel,
  type RegisteredModelCreate,
  type RegistryReader,
} from './wire.js';

export interface ModelRegistryClientOptions {
  token?: string;
  fetch?: typeof fetch;
  /** Tries per request, counting the first (default 4). */
  attempts?: number;
  /** First backoff delay in ms, doubled each retry (default 250). */
  backoffMs?: number;
  /** Per-request timeout in ms (default 30 s). */
  timeoutMs?: number;
}

const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);

/** The API root for what the user configured: a bare host URL, or one already ending in the API path. */
export function apiRoot(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ModelshipError('USAGE', `model registry URL ${JSON.stringify(url.replace(/\/\/[^/?#]*@/, '//***@'))} is not a URL; give e.g. https://model-registry.example.com`);
  }
  if (parsed.username || parsed.password) {
    // Never echoed: the URL holds a secret. A token travels as a Bearer header instead.
    parsed.username = '';
    parsed.password = '';
    throw new ModelshipError('USAGE', `model registry URL ${parsed.href} carries credentials (user:password@); remove them and pass a token with --token-env NAME or MODEL_REGISTRY_TOKEN`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ModelshipError('USAGE', `model registry URL ${parsed.href} must start with http:// or https://`);
  const base = parsed.href.replace(/\/+$/, '');
  return base.endsWith(API_BASE_PATH) ? base : base + API_BASE_PATH;
}

export class ModelRegistryClient implements ModelRegistryApi, RegistryReader {
  readonly location: string;
  private readonly root: string;
  private readonly fetchFn: typeof fetch;

  constructor(
    url: string,
    private readonly options: ModelRegistryClientOptions = {},
  ) {
    this.root = apiRoot(url);
    this.location = this.root.slice(0, -API_BASE_PATH.length);
    this.fetchFn = options.fetch ?? fetch;
  }

  async findRegisteredModel(name: string): Promise<RegisteredModel | undefined> {
    return this.find<RegisteredModel>('/registered_model', { name });
  }

  async createRegisteredModel(body: RegisteredModelCreate): Promise<RegisteredModel> {
    return this.request<RegisteredModel>('POST', '/registered_models', body);
  }

  async getRegisteredModel(id: string): Promise<RegisteredModel> {
    return this.request<RegisteredModel>('GET', `/registered_models/${encodeURIComponent(id)}`);
  }

  async listRegisteredModels(query: ListQuery = {}): Promise<ListPage<RegisteredModel>> {
    return this.request<ListPage<RegisteredModel>>('GET', withQuery('/registered_models', listParams(query)));
  }

  async findModelVersion(name: string, registeredModelId: string): Promise<ModelVersion | undefined> {
    return this.find<ModelVersion>('/model_version', { name, parentResourceId: registeredModelId });
  }

  async getModelVersion(id: string): Promise<ModelVersion> {
    return this.request<ModelVersion>('GET', `/model_versions/${encodeURIComponent(id)}`);
  }

  /** Every version the filterQuery matches, across registered models (e.g. by the digest property). */
  async findModelVersions(filterQuery: string, query: ListQuery = {}): Promise<ListPage<ModelVersion>> {
    return this.request<ListPage<ModelVersion>>('GET', withQuery('/model_versions', { ...listParams(query), filterQuery }));
  }

  async createModelVersion(body: ModelVersionCreate): Promise<ModelVersion> {
    return this.request<ModelVersion>('POST', '/model_versions', body);
  }

  async listModelVersions(registeredModelId: string, query: ListQuery = {}): Promise<ListPage<ModelVersion>> {
    return this.request<ListPage<ModelVersion>>('GET', withQuery(`/registered_models/${encodeURIComponent(registeredModelId)}/versions`, listParams(query)));
  }

  async listModelVersionArtifacts(modelVersionId: string, query: ListQuery = {}): Promise<ListPage<ModelArtifact>> {
    const params = { ...listParams(query), artifactType: 'model-artifact' };
    return this.request<ListPage<ModelArtifact>>('GET', withQuery(`/model_versions/${encodeURIComponent(modelVersionId)}/artifacts`, params));
  }

  async upsertModelVersionArtifact(modelVersionId: string, body: ModelArtifactUpsert): Promise<ModelArtifact> {
    return this.request<ModelArtifact>('POST', `/model_versions/${encodeURIComponent(modelVersionId)}/artifacts`, body);
  }

  /** GET a single entity by search parameters; a 404 means none matches. */
  private async find<T>(path: string, params: Record<string, string>): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', withQuery(path, params));
    } catch (err) {
      if (err instanceof ModelshipError && err.code === 'MODEL_REGISTRY_NOT_FOUND') return undefined;
      throw err;
    }
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = this.root + path;
    const attempts = Math.max(1, this.options.attempts ?? 4);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.token) headers['authorization'] = `Bearer ${this.options.token}`;
    let lastFailure: ModelshipError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await sleep((this.options.backoffMs ?? 250) * 2 ** (attempt - 2));
      let response: Response;
      try {
        response = await this.fetchFn(url, {
          method,
          headers,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
        });
      } catch (err) {
        lastFailure = new ModelshipError('MODEL_REGISTRY_NETWORK', `${method} ${url} failed after ${attempt} tries: ${describeError(err)}; check the model registry URL and that it is reachable`, { cause: err });
        continue;
      }
      const text = await response.text();
      if (response.ok) return parseJson<T>(text, method, url);
      lastFailure = statusError(response.status, method, url, text);
      if (!RETRY_STATUSES.has(response.status)) throw lastFailure;
    }
    throw lastFailure!;
  }
}

function listParams(query: ListQuery): Record<string, string> {
  const out: Record<string, string> = {};
  if (query.pageSize !== undefined) out['pageSize'] = String(query.pageSize);
  if (query.orderBy) out['orderBy'] = query.orderBy;
  if (query.sortOrder) out['sortOrder'] = query.sortOrder;
  if (query.nextPageToken) out['nextPageToken'] = query.nextPageToken;
  return out;
}

function withQuery(path: string, params: Record<string, string>): string {
  const search = new URLSearchParams(params).toString();
  return search ? `${path}?${search}` : path;
}

function parseJson<T>(text: string, method: string, url: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new ModelshipError('MODEL_REGISTRY_INVALID_RESPONSE', `${method} ${url} answered with a body that is not JSON; is this a Kubeflow Model Registry?`, { cause: err });
  }
}

/** The registry's own message, when it sent the spec's {code, message}. */
function serverMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === 'string' && body.message) return `: ${body.message}`;
  } catch {
    // Not JSON (a proxy's HTML page, say): the status says enough.
  }
  return '';
}

function statusError(status: number, method: string, url: string, text: string): ModelshipError {
  const said = serverMessage(text);
  const details = { url, method, status };
  switch (status) {
    case 401:
      return new ModelshipError('MODEL_REGISTRY_UNAUTHORIZED', `${method} ${url}: 401 Unauthorized${said}; pass a token with --token-env NAME or set MODEL_REGISTRY_TOKEN`, { details });
    case 403:
      return new ModelshipError('MODEL_REGISTRY_DENIED', `${method} ${url}: 403 Forbidden${said}; the token is valid but lacks access to this registry (check its RBAC role)`, { details });
    case 404:
      return new ModelshipError('MODEL_REGISTRY_NOT_FOUND', `${method} ${url}: 404 Not Found${said}; check the model registry URL (the API lives under ${API_BASE_PATH}) and the id`, { details });
    case 409:
      return new ModelshipError('MODEL_REGISTRY_CONFLICT', `${method} ${url}: 409 Conflict${said}`, { details });
    case 413:
      return new ModelshipError('MODEL_REGISTRY_TOO_LARGE', `${method} ${url}: 413 Request Entity Too Large${said}`, { details });
    case 400:
    case 422:
      return new ModelshipError('MODEL_REGISTRY_BAD_REQUEST', `${method} ${url}: ${status} rejected the request${said}`, { details });
    default:
      return new ModelshipError('MODEL_REGISTRY_SERVER', `${method} ${url}: ${status}${said}; the model registry failed, retry later`, { details });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
