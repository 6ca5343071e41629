/**
 * The embedded model registry's HTTP face: the Kubeflow Model Registry REST routes modelship uses
 * (registered models, versions, model artifacts, find by name, paged lists), over one database.
 */
import { STATUS_CODES, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { ModelshipError, describeError, isModelshipError } from '../errors/index.js';
import { parseId, type EntityKind, type RegistryDatabase } from './database.js';
import { parseFilterQuery } from './filter-query.js';
import { checkRequestBody, type RequestBodySchema } from './request-body.js';
import { API_BASE_PATH, API_V1_PATH, ORDER_BY_FIELDS, SORT_ORDERS, type ListQuery, type OrderByField, type SortOrder } from './wire.js';

/** One request and the answer it got, for logs and for tests that check both against the spec. */
export interface RegistryExchange {
  method: string;
  /** Path and query as received. */
  url: string;
  requestBody?: unknown;
  status: number;
  responseBody: unknown;
}

export interface RegistryServerOptions {
  database: RegistryDatabase;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string;
  onExchange?: (exchange: RegistryExchange) => void;
}

export interface RunningRegistryServer {
  /** Base URL, e.g. http://127.0.0.1:8080 (the API lives under /api/model_registry/v1alpha3). */
  url: string;
  port: number;
  close(): Promise<void>;
}

export const MAX_BODY_BYTES = 1024 * 1024;
/** Longest request target taken; Node's parser already bounds the header block. */
const MAX_URL_LENGTH = 8192;

const STATUS_BY_CODE: Record<string, number> = {
  MODEL_REGISTRY_BAD_REQUEST: 400,
  MODEL_REGISTRY_UNAUTHORIZED: 401,
  MODEL_REGISTRY_NOT_FOUND: 404,
  MODEL_REGISTRY_METHOD_NOT_ALLOWED: 405,
  MODEL_REGISTRY_CONFLICT: 409,
  MODEL_REGISTRY_TOO_LARGE: 413,
};

/** Upstream's error body: `code` is the HTTP status text (internal/server/openapi/helpers.go ErrorResponse). */
function errorBody(status: number, message: string): { code: string; message: string } {
  // Go's http.StatusText(413), which Node calls "Payload Too Large".
  return { code: status === 413 ? 'Request Entity Too Large' : (STATUS_CODES[status] ?? 'Error'), message };
}

interface Reply {
  status: number;
  body: unknown;
}

type Handler = (req: { params: string[]; query: URLSearchParams; body: (schema: RequestBodySchema) => Promise<Record<string, unknown>> }) => Promise<Reply> | Reply;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

const ID = '([^/]+)';

function routes(db: RegistryDatabase): Route[] {
  const ok = (body: unknown): Reply => ({ status: 200, body });
  const created = (body: unknown): Reply => ({ status: 201, body });
  const list = (kind: EntityKind, parent?: (params: string[]) => number): Handler => ({ params, query }) => {
    const parentId = parent?.(params);
    if (parentId !== undefined) db.get(kind === 'model-version' ? 'registered-model' : 'model-version', parentId);
    // Only model artifacts live here, so a list of any other artifact type is empty.
    const type = query.get('artifactType');
    if (type !== null && type !== 'model-artifact') return ok({ items: [], nextPageToken: '', pageSize: listQuery(query).pageSize ?? 0, size: 0 });
    return ok(db.list(kind, listQuery(query), parentId));
  };
  const find = (kind: EntityKind, withParent: boolean): Handler => ({ query }) => {
    const name = query.get('name');
    const externalId = query.get('externalId');
    const parent = query.get('parentResourceId');
    const parentId = withParent && parent !== null ? parseId(parent, 'parentResourceId') : undefined;
    if (name === null && externalId === null) throw badRequest('give name or externalId to search');
    const found = externalId !== null ? db.findByExternalId(kind, externalId) : db.findByName(kind, name!, kind === 'registered-model' ? 0 : parentId);
    if (!found || (name !== null && found['name'] !== name)) throw new ModelshipError('MODEL_REGISTRY_NOT_FOUND', `no ${kind.replace('-', ' ')} matches ${query.toString()}`);
    return ok(found);
  };
  const byId = (kind: EntityKind): Handler => ({ params }) => ok(db.get(kind, parseId(params[0], 'id')));
  const patch = (kind: EntityKind, schema: RequestBodySchema): Handler => async ({ params, body }) => ok(db.update(kind, parseId(params[0], 'id'), await body(schema)));
  const route = (method: string, path: string, handler: Handler): Route => ({ method, pattern: new RegExp(`^(?:${API_BASE_PATH}|${API_V1_PATH})${path}$`), handler });
  return [
    route('GET', '/registered_models', list('registered-model')),
    route('POST', '/registered_models', async ({ body }) => created(db.create('registered-model', await body('RegisteredModelCreate'), 0))),
    route('GET', '/registered_model', find('registered-model', false)),
    route('GET', `/registered_models/${ID}`, byId('registered-model')),
    route('PATCH', `/registered_models/${ID}`, patch('registered-model', 'RegisteredModelUpdate')),
    route('GET', `/registered_models/${ID}/versions`, list('model-version', (p) => parseId(p[0], 'registeredmodelId'))),
    route('POST', `/registered_models/${ID}/versions`, async ({ params, body }) => {
      const parent = parseId(params[0], 'registeredmodelId');
      return created(db.create('model-version', { ...(await body('ModelVersion')), registeredModelId: params[0] }, parent));
    }),
    route('GET', '/model_versions', list('model-version')),
    route('POST', '/model_versions', async ({ body }) => {
      const b = await body('ModelVersionCreate');
      return created(db.create('model-version', b, parseId(b['registeredModelId'], 'registeredModelId')));
    }),
    route('GET', '/model_version', find('model-version', true)),
    route('GET', `/model_versions/${ID}`, byId('model-version')),
    route('PATCH', `/model_versions/${ID}`, patch('model-version', 'ModelVersionUpdate')),
    route('GET', `/model_versions/${ID}/artifacts`, list('model-artifact', (p) => parseId(p[0], 'modelversionId'))),
    route('POST', `/model_versions/${ID}/artifacts`, async ({ params, body }) => {
      const result = db.upsertArtifact(params[0]!, await body('ModelArtifact'));
      return result.created ? created(result.entity) : ok(result.entity);
    }),
    route('GET', '/model_artifacts', list('model-artifact')),
    route('GET', '/model_artifact', find('model-artifact', true)),
    route('GET', `/model_artifacts/${ID}`, byId('model-artifact')),
    route('PATCH', `/model_artifacts/${ID}`, patch('model-artifact', 'ModelArtifactUpdate')),
  ];
}

function listQuery(query: URLSearchParams): ListQuery {
  const out: ListQuery = {};
  const pageSize = query.get('pageSize');
  if (pageSize !== null) {
    if (!/^[1-9][0-9]{0,8}$/.test(pageSize)) throw badRequest(`pageSize ${JSON.stringify(pageSize)} must be a positive integer`);
    out.pageSize = Number(pageSize);
  }
  const orderBy = query.get('orderBy');
  if (orderBy !== null) {
    if (!ORDER_BY_FIELDS.includes(orderBy as OrderByField)) throw badRequest(`orderBy ${JSON.stringify(orderBy)} must be one of ${ORDER_BY_FIELDS.join(', ')}`);
    out.orderBy = orderBy as OrderByField;
  }
  const sortOrder = query.get('sortOrder');
  if (sortOrder !== null) {
    if (!SORT_ORDERS.includes(sortOrder as SortOrder)) throw badRequest(`sortOrder ${JSON.stringify(sortOrder)} must be ASC or DESC`);
    out.sortOrder = sortOrder as SortOrder;
  }
  const token = query.get('nextPageToken');
  if (token) out.nextPageToken = token;
  const filter = query.get('filterQuery');
  if (filter !== null && filter.trim() !== '') out.filter = parseFilterQuery(filter);
  return out;
}

function badRequest(message: string): ModelshipError {
  return new ModelshipError('MODEL_REGISTRY_BAD_REQUEST', message);
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge(declared);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw tooLarge(size);
    chunks.push(chunk);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw badRequest(`request body is not JSON: ${describeError(err)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest('request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

function tooLarge(bytes: number): ModelshipError {
  return new ModelshipError('MODEL_REGISTRY_TOO_LARGE', `request body of ${bytes} bytes or more is over ${MAX_BODY_BYTES} bytes (1 MiB), the most this registry takes`);
}

/** The request target as a URL; anything that is not an origin-form path is a 400, never a crash. */
function requestUrl(raw: string): URL {
  if (raw.length > MAX_URL_LENGTH) throw new ModelshipError('MODEL_REGISTRY_BAD_REQUEST', `the request target is over ${MAX_URL_LENGTH} characters`);
  if (!raw.startsWith('/') || raw.startsWith('//')) throw badRequest(`the request target ${JSON.stringify(raw.slice(0, 200))} is not a path (it must start with a single "/")`);
  try {
    return new URL(raw, 'http://embedded');
  } catch {
    throw badRequest(`the request target ${JSON.stringify(raw.slice(0, 200))} is not a valid path`);
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`path segment ${JSON.stringify(segment.slice(0, 200))} has a malformed %-escape`);
  }
}

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer (.+)$/i.exec(header);
  if (!match) return false;
  const given = Buffer.from(match[1]!);
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

export async function startRegistryServer(options: RegistryServerOptions): Promise<RunningRegistryServer> {
  const table = routes(options.database);
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // The last line of defence: whatever went wrong answers this request only, never the process.
      if (!res.headersSent) {
        const text = JSON.stringify(errorBody(500, describeError(err)));
        res.writeHead(500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), connection: 'close' });
        res.end(text);
      } else res.destroy();
    });
  });
  // Requests Node's own parser refuses (bad request line, headers) get a 400 and the socket closes.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    let requestBody: unknown;
    let reply: Reply;
    try {
      if (options.token !== undefined && !authorized(req, options.token)) {
        res.setHeader('WWW-Authenticate', 'Bearer');
        throw new ModelshipError('MODEL_REGISTRY_UNAUTHORIZED', 'this registry needs Authorization: Bearer <token>');
      }
      const url = requestUrl(req.url ?? '/');
      const path = url.pathname.replace(/\/+$/, '');
      const matches = table.map((r) => ({ r, m: r.pattern.exec(path) })).filter((x) => x.m !== null);
      const hit = matches.find((x) => x.r.method === method);
      if (!hit) {
        if (matches.length) throw new ModelshipError('MODEL_REGISTRY_METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}; use ${matches.map((x) => x.r.method).join(' or ')}`);
        throw new ModelshipError('MODEL_REGISTRY_NOT_FOUND', `no route ${path.slice(0, 200)}; the API lives under ${API_BASE_PATH}`);
      }
      reply = await hit.r.handler({
        params: hit.m!.slice(1).map(decodeSegment),
        query: url.searchParams,
        body: async (schema) => {
          const body = await readJsonBody(req);
          requestBody = body;
          checkRequestBody(schema, body);
          return body;
        },
      });
    } catch (err) {
      const status = isModelshipError(err) ? (STATUS_BY_CODE[err.code] ?? 500) : 500;
      reply = { status, body: errorBody(status, describeError(err)) };
    }
    let text: string;
    try {
      text = JSON.stringify(reply.body);
    } catch (err) {
      reply = { status: 500, body: errorBody(500, `the answer could not be written: ${describeError(err)}`) };
      text = JSON.stringify(reply.body);
    }
    // A body left unread (too large, refused early) is not drained: the connection closes instead.
    const close = !req.complete;
    res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(close ? { connection: 'close' } : {}) });
    res.end(text);
    options.onExchange?.({ method, url: req.url ?? '/', ...(requestBody === undefined ? {} : { requestBody }), status: reply.status, responseBody: reply.body });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
