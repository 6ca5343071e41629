/**
 * The embedded model registry's storage: one SQLite file (better-sqlite3) under $MODELSHIP_HOME.
 * WAL mode lets a server and a CLI share it; every write is one BEGIN IMMEDIATE transaction, so a
 * process killed mid-write leaves either the whole change or none of it.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { ModelshipError, describeError } from '../errors/index.js';
import {
  ORDER_BY_FIELDS,
  SORT_ORDERS,
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
import { parseFilterQuery, type FilterCondition } from './filter-query.js';
import { ARTIFACT_STATES, MODEL_VERSION_STATES, REGISTERED_MODEL_STATES, checkCustomProperties } from './request-body.js';

export type EntityKind = 'registered-model' | 'model-version' | 'model-artifact';

interface Row {
  id: number;
  kind: EntityKind;
  parent_id: number;
  name: string;
  external_id: string | null;
  body: string;
  create_time: number;
  update_time: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entities (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL CHECK (kind IN ('registered-model', 'model-version', 'model-artifact')),
  parent_id INTEGER NOT NULL DEFAULT 0,
  name TEXT NOT NULL,
  external_id TEXT,
  body TEXT NOT NULL,
  create_time INTEGER NOT NULL,
  update_time INTEGER NOT NULL,
  UNIQUE (kind, parent_id, name)
);
CREATE UNIQUE INDEX IF NOT EXISTS entities_external_id ON entities (kind, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS entities_create_time ON entities (kind, create_time, id);
CREATE INDEX IF NOT EXISTS entities_update_time ON entities (kind, update_time, id);
`;

/** Where the embedded registry keeps its data under MODELSHIP_HOME. */
export function embeddedDatabasePath(home: string): string {
  return join(home, 'model-registry', 'registry.sqlite');
}

export const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;
/** Upstream keeps names in varchar(255) columns (internal/platform/db/mysql/migrations). */
export const MAX_NAME_LENGTH = 255;
/** One stored entity, all fields together: the request body limit, so no sequence of updates grows past it. */
export const MAX_ENTITY_BYTES = 1024 * 1024;
/** One list page's JSON: far below V8's longest string, so no page can crash the server. */
export const MAX_PAGE_BYTES = 16 * 1024 * 1024;
const BUSY_TIMEOUT_MS = 15_000;

/** Fields each kind keeps in its JSON body, beside the columns. */
const BODY_FIELDS: Record<EntityKind, string[]> = {
  'registered-model': ['description', 'owner', 'state', 'customProperties', 'readme', 'maturity', 'language', 'tasks', 'provider', 'logo', 'license', 'licenseLink', 'libraryName'],
  'model-version': ['description', 'author', 'state', 'customProperties'],
  'model-artifact': ['description', 'uri', 'modelFormatName', 'modelFormatVersion', 'storageKey', 'storagePath', 'serviceAccountName', 'modelSourceKind', 'modelSourceClass', 'modelSourceGroup', 'modelSourceId', 'modelSourceName', 'experimentId', 'experimentRunId', 'state', 'customProperties'],
};

const STATES: Record<EntityKind, readonly string[]> = { 'registered-model': REGISTERED_MODEL_STATES, 'model-version': MODEL_VERSION_STATES, 'model-artifact': ARTIFACT_STATES };

const KIND_NAMES: Record<EntityKind, string> = { 'registered-model': 'registered model', 'model-version': 'model version', 'model-artifact': 'model artifact' };

export async function openRegistryDatabase(path: string): Promise<RegistryDatabase> {
  // Loaded here so commands that never touch the embedded registry never load the native module.
  const { default: Database } = await import('better-sqlite3');
  mkdirSync(dirname(path), { recursive: true });
  let db: BetterSqlite3.Database;
  try {
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    db.pragma('journal_mode = WAL');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.transaction(() => db.exec(SCHEMA)).immediate();
  } catch (err) {
    throw new ModelshipError('MODEL_REGISTRY_DATABASE', `cannot open the embedded model registry at ${path}: ${describeError(err)}; check the file's permissions or move it aside`, { cause: err });
  }
  return new RegistryDatabase(db, path);
}

export class RegistryDatabase implements ModelRegistryApi, RegistryReader {
  readonly location: string;

  constructor(
    private readonly db: BetterSqlite3.Database,
    readonly path: string,
  ) {
    this.location = `embedded:${path}`;
  }

  close(): void {
    this.db.close();
  }

  // ModelRegistryApi: what registering needs.

  async findRegisteredModel(name: string): Promise<RegisteredModel | undefined> {
    return this.findByName('registered-model', name, 0) as unknown as RegisteredModel | undefined;
  }

  async createRegisteredModel(body: RegisteredModelCreate): Promise<RegisteredModel> {
    return this.create('registered-model', body as unknown as Record<string, unknown>, 0) as unknown as RegisteredModel;
  }

  async findModelVersion(name: string, registeredModelId: string): Promise<ModelVersion | undefined> {
    return this.findByName('model-version', name, parseId(registeredModelId, 'registeredModelId')) as unknown as ModelVersion | undefined;
  }

  async createModelVersion(body: ModelVersionCreate): Promise<ModelVersion> {
    const parent = parseId(body.registeredModelId, 'registeredModelId');
    return this.create('model-version', body as unknown as Record<string, unknown>, parent) as unknown as ModelVersion;
  }

  async listModelVersionArtifacts(modelVersionId: string, query: ListQuery = {}): Promise<ListPage<ModelArtifact>> {
    const parent = parseId(modelVersionId, 'modelversionId');
    this.get('model-version', parent);
    return this.list('model-artifact', query, parent) as unknown as ListPage<ModelArtifact>;
  }

  async upsertModelVersionArtifact(modelVersionId: string, body: ModelArtifactUpsert): Promise<ModelArtifact> {
    return this.upsertArtifact(modelVersionId, body as unknown as Record<string, unknown>).entity as ModelArtifact;
  }

  // RegistryReader: what looking a digest up needs.

  async findModelVersions(filterQuery: string, query: ListQuery = {}): Promise<ListPage<ModelVersion>> {
    return this.list('model-version', { ...query, filter: parseFilterQuery(filterQuery) }) as unknown as ListPage<ModelVersion>;
  }

  async getRegisteredModel(id: string): Promise<RegisteredModel> {
    return this.get('registered-model', parseId(id, 'id')) as unknown as RegisteredModel;
  }

  async getModelVersion(id: string): Promise<ModelVersion> {
    return this.get('model-version', parseId(id, 'id')) as unknown as ModelVersion;
  }

  // The rest of the API the embedded server answers.

  /** Creates, or with `id` updates, a model artifact of a version; `created` tells which. */
  upsertArtifact(modelVersionId: string, body: Record<string, unknown>): { entity: ModelArtifact; created: boolean } {
    const parent = parseId(modelVersionId, 'modelversionId');
    if (body['artifactType'] !== 'model-artifact') {
      throw badRequest(`artifactType ${JSON.stringify(body['artifactType'])} is not supported by the embedded registry; only "model-artifact" is`);
    }
    return this.write(() => {
      this.getRow('model-version', parent);
      if (body['id'] !== undefined) {
        const id = parseId(body['id'], 'id');
        const row = this.getRow('model-artifact', id);
        if (row.parent_id !== parent) throw conflict(`model artifact ${id} belongs to model version ${row.parent_id}, not ${parent}`);
        return { entity: this.updateRow(row, body) as unknown as ModelArtifact, created: false };
      }
      return { entity: this.insert('model-artifact', body, parent) as unknown as ModelArtifact, created: true };
    });
  }

  get(kind: EntityKind, id: number): Record<string, unknown> {
    return toEntity(this.getRow(kind, id));
  }

  findByName(kind: EntityKind, name: string, parentId: number | undefined): Record<string, unknown> | undefined {
    const row = (
      parentId === undefined
        ? this.db.prepare('SELECT * FROM entities WHERE kind = ? AND name = ? ORDER BY id LIMIT 1').get(kind, name)
        : this.db.prepare('SELECT * FROM entities WHERE kind = ? AND parent_id = ? AND name = ?').get(kind, parentId, name)
    ) as Row | undefined;
    return row && toEntity(row);
  }

  findByExternalId(kind: EntityKind, externalId: string): Record<string, unknown> | undefined {
    const row = this.db.prepare('SELECT * FROM entities WHERE kind = ? AND external_id = ?').get(kind, externalId) as Row | undefined;
    return row && toEntity(row);
  }

  create(kind: EntityKind, body: Record<string, unknown>, parentId: number): Record<string, unknown> {
    return this.write(() => {
      if (kind === 'model-version') this.getRow('registered-model', parentId);
      return this.insert(kind, body, parentId);
    });
  }

  update(kind: EntityKind, id: number, body: Record<string, unknown>): Record<string, unknown> {
    return this.write(() => this.updateRow(this.getRow(kind, id), body));
  }

  /** One page, ordered by `orderBy` then id so equal times still page deterministically. */
  list(kind: EntityKind, query: ListQuery, parentId?: number): ListPage<Record<string, unknown>> {
    const orderBy = query.orderBy ?? 'ID';
    const sortOrder = query.sortOrder ?? 'ASC';
    if (!ORDER_BY_FIELDS.includes(orderBy)) throw badRequest(`orderBy ${orderBy} is not one of ${ORDER_BY_FIELDS.join(', ')}`);
    if (!SORT_ORDERS.includes(sortOrder)) throw badRequest(`sortOrder ${sortOrder} is not one of ${SORT_ORDERS.join(', ')}`);
    const pageSize = Math.min(query.pageSize ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    if (!Number.isInteger(pageSize) || pageSize < 1) throw badRequest(`pageSize ${query.pageSize} must be a positive integer`);
    const column = { ID: 'id', CREATE_TIME: 'create_time', LAST_UPDATE_TIME: 'update_time' }[orderBy];
    const direction = sortOrder === 'ASC' ? 'ASC' : 'DESC';
    const where = ['kind = ?'];
    const params: (string | number)[] = [kind];
    if (parentId !== undefined) {
      where.push('parent_id = ?');
      params.push(parentId);
    }
    for (const condition of query.filter ?? []) {
      const clause = filterClause(condition);
      where.push(clause.sql);
      params.push(...clause.params);
    }
    if (query.nextPageToken) {
      const after = decodePageToken(query.nextPageToken, { kind, orderBy, sortOrder, parentId: parentId ?? 0 });
      where.push(`(${column}, id) ${direction === 'ASC' ? '>' : '<'} (?, ?)`);
      params.push(after.value, after.id);
    }
    const rows = this.db
      .prepare(`SELECT * FROM entities WHERE ${where.join(' AND ')} ORDER BY ${column} ${direction}, id ${direction} LIMIT ?`)
      .all(...params, pageSize + 1) as Row[];
    // A page stops early at MAX_PAGE_BYTES; the token carries on from its last item.
    const page: Row[] = [];
    let bytes = 0;
    for (const row of rows.slice(0, pageSize)) {
      bytes += row.body.length + row.name.length + 256;
      if (page.length > 0 && bytes > MAX_PAGE_BYTES) break;
      page.push(row);
    }
    const last = page[page.length - 1];
    const more = rows.length > page.length && last !== undefined;
    const nextPageToken = more ? encodePageToken({ kind, orderBy, sortOrder, parentId: parentId ?? 0, value: last[column as keyof Row] as number, id: last.id }) : '';
    return { items: page.map(toEntity), nextPageToken, pageSize, size: page.length };
  }

  /** SQLite's own check, for tests and `registry serve` start-up. */
  integrityCheck(): string {
    return String(this.db.pragma('integrity_check', { simple: true }));
  }

  private write<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      throw translateSqliteError(err, this.path);
    }
  }

  private getRow(kind: EntityKind, id: number): Row {
    const row = this.db.prepare('SELECT * FROM entities WHERE kind = ? AND id = ?').get(kind, id) as Row | undefined;
    if (!row) throw new ModelshipError('MODEL_REGISTRY_NOT_FOUND', `no ${KIND_NAMES[kind]} with id ${id}`);
    return row;
  }

  private insert(kind: EntityKind, body: Record<string, unknown>, parentId: number): Record<string, unknown> {
    const name = body['name'];
    if (typeof name !== 'string' || name.length === 0) {
      if (kind !== 'model-artifact') throw badRequest(`a ${KIND_NAMES[kind]} needs a non-empty "name"`);
    }
    if (typeof name === 'string' && name.length > 0) {
      const taken = this.db.prepare('SELECT id FROM entities WHERE kind = ? AND parent_id = ? AND name = ?').get(kind, parentId, name) as { id: number } | undefined;
      if (taken) throw conflict(`a ${KIND_NAMES[kind]} named "${name}" already exists${parentId ? ` under id ${parentId}` : ''} (id ${taken.id})`);
    }
    if (typeof name === 'string' && name.length > MAX_NAME_LENGTH) throw badRequest(`a ${KIND_NAMES[kind]} name is at most ${MAX_NAME_LENGTH} characters; this one has ${name.length}`);
    const fields = pickBody(kind, body);
    if ((kind === 'registered-model' || kind === 'model-version') && fields['state'] === undefined) fields['state'] = 'LIVE';
    checkEntitySize(kind, fields);
    const now = Date.now();
    const externalId = optionalString(body, 'externalId');
    // An artifact created without a name gets one, as upstream does, so (version, name) stays unique.
    const rowName = typeof name === 'string' && name.length > 0 ? name : `artifact-${now}-${Math.random().toString(36).slice(2, 10)}`;
    const info = this.db
      .prepare('INSERT INTO entities (kind, parent_id, name, external_id, body, create_time, update_time) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(kind, parentId, rowName, externalId ?? null, JSON.stringify(fields), now, now);
    return toEntity(this.getRow(kind, Number(info.lastInsertRowid)));
  }

  private updateRow(row: Row, body: Record<string, unknown>): Record<string, unknown> {
    if (body['name'] !== undefined && body['name'] !== row.name) throw badRequest(`the name of ${KIND_NAMES[row.kind]} ${row.id} is "${row.name}" and cannot be changed`);
    const fields = { ...(JSON.parse(row.body) as Record<string, unknown>), ...pickBody(row.kind, body) };
    checkEntitySize(row.kind, fields);
    const externalId = optionalString(body, 'externalId') ?? row.external_id;
    // A later update always moves the time on, even within the same millisecond.
    const now = Math.max(Date.now(), row.update_time + 1);
    this.db.prepare('UPDATE entities SET body = ?, external_id = ?, update_time = ? WHERE id = ?').run(JSON.stringify(fields), externalId, now, row.id);
    return toEntity(this.getRow(row.kind, row.id));
  }
}

function pickBody(kind: EntityKind, body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of BODY_FIELDS[kind]) if (body[field] !== undefined) out[field] = body[field];
  for (const field of ['description', 'owner', 'author', 'uri', 'modelFormatName', 'modelFormatVersion', 'state']) {
    if (out[field] !== undefined && typeof out[field] !== 'string') throw badRequest(`"${field}" must be a string`);
  }
  const state = out['state'];
  if (state !== undefined && !STATES[kind].includes(state as string)) throw badRequest(`"state" ${JSON.stringify(state)} is not a valid ${KIND_NAMES[kind]} state: use one of ${STATES[kind].join(', ')}`);
  if (out['customProperties'] !== undefined) checkCustomProperties(out['customProperties']);
  return out;
}

function checkEntitySize(kind: EntityKind, fields: Record<string, unknown>): void {
  const bytes = Buffer.byteLength(JSON.stringify(fields));
  if (bytes > MAX_ENTITY_BYTES) throw new ModelshipError('MODEL_REGISTRY_TOO_LARGE', `a ${KIND_NAMES[kind]} holds at most ${MAX_ENTITY_BYTES} bytes of fields; this one would hold ${bytes}: keep long text (a README, say) outside the registry and link it`);
}

/** One `filterQuery` condition as SQL over the columns and the JSON body. */
function filterClause(c: FilterCondition): { sql: string; params: (string | number)[] } {
  const scalar = (v: FilterCondition['value']): string | number => (typeof v === 'boolean' ? (v ? 1 : 0) : v);
  let sql: string;
  let params: (string | number)[];
  if (c.property === 'name') [sql, params] = ['name = ?', [String(c.value)]];
  else if (c.property === 'id') [sql, params] = ['id = ?', [Number(c.value)]];
  else if (c.property === 'externalId') [sql, params] = ['external_id = ?', [String(c.value)]];
  else if (c.property === 'state') [sql, params] = ["json_extract(body, '$.state') = ?", [String(c.value)]];
  else {
    const key = c.property.slice('customProperties.'.length);
    if (/["\\]/.test(key) || key.length === 0) throw badRequest(`filterQuery: custom property ${JSON.stringify(key)} cannot be queried (quotes and backslashes are not supported)`);
    const path = `$.customProperties."${key}"`;
    // int_value is a string on the wire; bool_value is stored as JSON true/false (1/0 in SQL).
    const one = (field: string, v: FilterCondition['value']): [string, (string | number)[]] =>
      field === 'int_value' || field === 'string_value' ? [`json_extract(body, ?) = ?`, [`${path}.${field}`, String(v)]] : [`json_extract(body, ?) = ?`, [`${path}.${field}`, scalar(v)]];
    const fields = c.valueField ? [c.valueField] : ['string_value', 'int_value', 'double_value', 'bool_value'];
    const parts = fields.map((f) => one(f, c.value));
    [sql, params] = [`(${parts.map((p) => p[0]).join(' OR ')})`, parts.flatMap((p) => p[1])];
  }
  return c.negate ? { sql: `NOT (${sql})`, params } : { sql, params };
}

function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badRequest(`"${field}" must be a string`);
  return v;
}

function toEntity(row: Row): Record<string, unknown> {
  const body = JSON.parse(row.body) as Record<string, unknown>;
  return {
    ...(row.kind === 'model-artifact' ? { artifactType: 'model-artifact' } : {}),
    ...body,
    id: String(row.id),
    name: row.name,
    ...(row.external_id === null ? {} : { externalId: row.external_id }),
    ...(row.kind === 'model-version' ? { registeredModelId: String(row.parent_id) } : {}),
    createTimeSinceEpoch: String(row.create_time),
    lastUpdateTimeSinceEpoch: String(row.update_time),
  };
}

/** Ids are the spec's digit strings: 1 to 9 digits, no leading zero. */
export function parseId(value: unknown, field: string): number {
  if (typeof value !== 'string' || !/^[1-9][0-9]{0,8}$/.test(value)) throw badRequest(`${field} ${JSON.stringify(value)} is not an id (a string of digits such as "1")`);
  return Number(value);
}

interface PageCursor {
  kind: EntityKind;
  orderBy: string;
  sortOrder: string;
  parentId: number;
  value: number;
  id: number;
}

function encodePageToken(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify([cursor.kind, cursor.orderBy, cursor.sortOrder, cursor.parentId, cursor.value, cursor.id])).toString('base64url');
}

function decodePageToken(token: string, expected: Omit<PageCursor, 'value' | 'id'>): { value: number; id: number } {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parts = undefined;
  }
  const ok =
    Array.isArray(parts) &&
    parts.length === 6 &&
    parts[0] === expected.kind &&
    parts[1] === expected.orderBy &&
    parts[2] === expected.sortOrder &&
    parts[3] === expected.parentId &&
    Number.isInteger(parts[4]) &&
    Number.isInteger(parts[5]);
  if (!ok) throw badRequest('nextPageToken does not belong to this list (same path, orderBy and sortOrder); start again without it');
  const [, , , , value, id] = parts as number[];
  return { value: value!, id: id! };
}

function badRequest(message: string): ModelshipError {
  return new ModelshipError('MODEL_REGISTRY_BAD_REQUEST', message);
}

function conflict(message: string): ModelshipError {
  return new ModelshipError('MODEL_REGISTRY_CONFLICT', message);
}

function translateSqliteError(err: unknown, path: string): unknown {
  const code = (err as { code?: unknown }).code;
  if (code === 'SQLITE_CONSTRAINT_UNIQUE') return conflict(`already exists (a name or externalId is taken): ${describeError(err)}`);
  if (typeof code === 'string' && code.startsWith('SQLITE_')) {
    return new ModelshipError('MODEL_REGISTRY_DATABASE', `the embedded model registry at ${path} failed: ${describeError(err)}`, { cause: err });
  }
  return err;
}
