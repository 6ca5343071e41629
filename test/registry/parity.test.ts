/**
 * Parity with the Kubeflow Model Registry server (kubeflow/model-registry bd07139, internal/server/openapi
 * and pkg/openapi): what it refuses we refuse, with its error body; and the upstream python client's
 * register_model call sequence (clients/python/src/model_registry/_client.py) replayed against
 * `registry serve`, and made by our own client, each request and response checked against the
 * vendored OpenAPI document.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_BASE_PATH,
  ModelRegistryClient,
  embeddedDatabasePath,
  openRegistryDatabase,
  registerModelVersion,
  startRegistryServer,
  type RegistryDatabase,
  type RegistryExchange,
  type RunningRegistryServer,
} from '../../modules/registry/index.js';
import { REQUEST_BODY_FIELDS } from '../../modules/registry/request-body.js';
import { SpecChecker, loadSpec } from './openapi.js';

const DIGEST = `sha256:${'c'.repeat(64)}`;
const OTHER = `sha256:${'d'.repeat(64)}`;

let dir: string;
let db: RegistryDatabase;
let server: RunningRegistryServer;
const exchanges: RegistryExchange[] = [];
const checker = new SpecChecker();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mreg-parity-'));
  db = await openRegistryDatabase(embeddedDatabasePath(dir));
  server = await startRegistryServer({ database: db, onExchange: (e) => exchanges.push(e) });
});
afterAll(async () => {
  await server.close();
  db.close();
  await rm(dir, { recursive: true, force: true });
});

async function call(method: string, url: string, body?: unknown): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(`${server.url}${API_BASE_PATH}${url}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** Exchanges since `from`, as "METHOD /path" with ids replaced by the spec's parameter names. */
function sequence(from: number): string[] {
  return exchanges.slice(from).map((e) => `${e.method} ${new URL(e.url, 'http://x').pathname.slice(API_BASE_PATH.length).replace(/\/[0-9]+(?=\/|$)/g, '/{id}')}`);
}

describe('request bodies as the upstream server takes them', () => {
  it('the field tables are the published schemas', () => {
    const schemas = loadSpec()['components']['schemas'] as Record<string, any>;
    const props = (s: any): string[] => (s.$ref ? props(schemas[s.$ref.split('/').pop()]) : [...(s.allOf ?? []).flatMap(props), ...Object.keys(s.properties ?? {})]);
    for (const [name, fields] of Object.entries(REQUEST_BODY_FIELDS)) expect([name, new Set(Object.keys(fields))]).toEqual([name, new Set(props(schemas[name]))]);
  });

  it('refuses unknown fields (DisallowUnknownFields), bad states, a numeric int_value and an object string_value, with the status text as code', async () => {
    const cases: [string, string, unknown][] = [
      ['POST', '/registered_models', { name: 'u1', colour: 'blue' }],
      ['POST', '/registered_models', { name: 'u2', state: 'DELETED' }],
      ['POST', '/registered_models', { name: 'u3', customProperties: { n: { metadataType: 'MetadataIntValue', int_value: 5 } } }],
      ['POST', '/registered_models', { name: 'u4', customProperties: { n: { metadataType: 'MetadataIntValue', int_value: '12345678901' } } }],
      ['POST', '/registered_models', { name: 'u5', customProperties: { s: { metadataType: 'MetadataStringValue', string_value: { nested: true } } } }],
      ['POST', '/registered_models', { name: 'u6', customProperties: { s: { metadataType: 'MetadataStringValue', string_value: 'x', extra: 1 } } }],
      ['POST', '/registered_models', { name: 'u7', tasks: 'chat' }],
    ];
    for (const [method, url, body] of cases) {
      const res = await call(method, url, body);
      expect({ body, status: res.status, code: res.body['code'] }).toEqual({ body, status: 400, code: 'Bad Request' });
    }
    const model = await call('POST', '/registered_models', { name: 'parity', customProperties: { n: { metadataType: 'MetadataIntValue', int_value: '42' } } });
    expect(model.status).toBe(201);
    const id = model.body['id'] as string;
    expect((await call('PATCH', `/registered_models/${id}`, { name: 'renamed' })).body).toMatchObject({ code: 'Bad Request', message: expect.stringContaining('unknown field "name"') });
    expect((await call('PATCH', `/registered_models/${id}`, { state: 'archived' })).status).toBe(400);
    expect((await call('PATCH', `/registered_models/${id}`, { state: 'ARCHIVED' })).body['state']).toBe('ARCHIVED');
    const version = await call('POST', '/model_versions', { name: 'v1', registeredModelId: id, state: 'LIVE' });
    expect(version.status).toBe(201);
    expect((await call('PATCH', `/model_versions/${version.body['id']}`, { state: 'PENDING' })).status).toBe(400);
    const artifact = await call('POST', `/model_versions/${version.body['id']}/artifacts`, { artifactType: 'model-artifact', name: 'a', uri: 'oci://h/r@' + DIGEST, state: 'PENDING' });
    expect(artifact.status).toBe(201);
    expect((await call('PATCH', `/model_artifacts/${artifact.body['id']}`, { artifactType: 'model-artifact', state: 'ARCHIVED' })).status).toBe(400);
    expect((await call('GET', '/registered_models/999999')).body['code']).toBe('Not Found');
    expect((await call('POST', '/registered_models', { name: 'parity' })).body['code']).toBe('Conflict');
  });
});

describe('filterQuery', () => {
  it('answers name, state, id and custom property comparisons joined by AND; refuses what it does not support', async () => {
    const team = (t: string) => ({ team: { metadataType: 'MetadataStringValue', string_value: t } });
    const a = await call('POST', '/registered_models', { name: 'fq-a', customProperties: team('red') });
    await call('POST', '/registered_models', { name: 'fq-b', customProperties: team('blue') });
    await call('POST', '/registered_models', { name: 'fq-c', state: 'ARCHIVED', customProperties: team('red') });
    const names = async (q: string) => {
      const res = await call('GET', `/registered_models?pageSize=100&filterQuery=${encodeURIComponent(q)}`);
      expect({ q, status: res.status }).toEqual({ q, status: 200 });
      return (res.body['items'] as { name: string }[]).map((m) => m.name).filter((n) => n.startsWith('fq-')).sort();
    };
    expect(await names("name='fq-a'")).toEqual(['fq-a']);
    expect(await names('name = "fq-b"')).toEqual(['fq-b']);
    expect(await names("team.string_value = 'red'")).toEqual(['fq-a', 'fq-c']);
    expect(await names("`team` = 'red' AND state = 'LIVE'")).toEqual(['fq-a']);
    expect(await names("team = 'red' and state != 'LIVE'")).toEqual(['fq-c']);
    expect(await names(`id = ${a.body['id']}`)).toEqual(['fq-a']);
    for (const q of ["name LIKE 'fq-%'", "name='fq-a' OR name='fq-b'", "(name='fq-a')", "name IN ('fq-a')", "name = 'unclosed", 'name =', "name='fq-a' AND"]) {
      const res = await call('GET', `/registered_models?filterQuery=${encodeURIComponent(q)}`);
      expect({ q, status: res.status, code: res.body['code'] }).toEqual({ q, status: 400, code: 'Bad Request' });
      expect(res.body['message']).toMatch(/filterQuery/);
    }
  });
});

describe('register_model, as the upstream python client calls it', () => {
  const PYTHON_SEQUENCE = ['GET /registered_model', 'POST /registered_models', 'GET /model_version', 'POST /model_versions', 'POST /model_versions/{id}/artifacts'];

  it('replayed against registry serve: each request and response validates against the published document', async () => {
    const from = exchanges.length;
    // register_model("py-model", uri, model_format_name="gguf", model_format_version="3", version="v1", author="alice")
    const found = await call('GET', '/registered_model?name=py-model');
    expect(found.status).toBe(404);
    const rm = await call('POST', '/registered_models', { name: 'py-model', owner: 'alice', state: 'LIVE' });
    expect(rm.status).toBe(201);
    expect((await call('GET', `/model_version?name=v1&parentResourceId=${rm.body['id']}`)).status).toBe(404);
    const mv = await call('POST', '/model_versions', { name: 'v1', author: 'alice', state: 'LIVE', registeredModelId: rm.body['id'] });
    expect(mv.status).toBe(201);
    const ma = await call('POST', `/model_versions/${mv.body['id']}/artifacts`, {
      artifactType: 'model-artifact', name: 'py-model', uri: `oci://registry.example.com/team/py-model@${DIGEST}`, modelFormatName: 'gguf', modelFormatVersion: '3', state: 'UNKNOWN',
    });
    expect(ma.status).toBe(201);
    expect(sequence(from)).toEqual(PYTHON_SEQUENCE);
    expect(exchanges.slice(from).flatMap((e) => checker.check(e))).toEqual([]);
    // The python client then refuses the existing version: its GET finds it.
    expect((await call('GET', `/model_version?name=v1&parentResourceId=${rm.body['id']}`)).body['id']).toBe(mv.body['id']);
  });

  it('made by our client: the same five calls, modelFormatVersion sent, each validated; a rerun is idempotent; another digest under the version is refused', async () => {
    const client = new ModelRegistryClient(server.url, { backoffMs: 5 });
    const input = { name: 'ours', version: 'v1', digest: DIGEST, uri: `oci://registry.example.com/team/ours@${DIGEST}`, modelFormatName: 'gguf' };
    const from = exchanges.length;
    const first = await registerModelVersion(client, input);
    expect(sequence(from)).toEqual(PYTHON_SEQUENCE);
    const posted = exchanges.slice(from).at(-1)!;
    expect(posted.requestBody).toMatchObject({ artifactType: 'model-artifact', modelFormatName: 'gguf', modelFormatVersion: '1' });
    expect(exchanges.slice(from).flatMap((e) => checker.check(e))).toEqual([]);

    const again = exchanges.length;
    expect((await registerModelVersion(client, input)).modelArtifactId).toBe(first.modelArtifactId);
    expect(exchanges.slice(again).filter((e) => e.method !== 'GET')).toEqual([]);

    const moved = exchanges.length;
    await expect(registerModelVersion(client, { ...input, digest: OTHER, uri: `oci://registry.example.com/team/ours@${OTHER}` })).rejects.toMatchObject({
      code: 'MODEL_REGISTRY_VERSION_EXISTS',
      message: expect.stringMatching(new RegExp(`"v1" of "ours" already exists for ${DIGEST}, not ${OTHER}.*new version name`)),
    });
    expect(exchanges.slice(moved).filter((e) => e.method !== 'GET')).toEqual([]);
    const [artifact] = (await client.listModelVersionArtifacts(first.modelVersionId)).items;
    expect(artifact?.uri).toBe(input.uri);
    expect(exchanges.flatMap((e) => checker.check(e, { request: e.status < 400 }))).toEqual([]);
  });

  it('the embedded database (no server) refuses another digest the same way', async () => {
    const input = { name: 'local', version: 'v1', digest: DIGEST, uri: `oci://r/local@${DIGEST}` };
    await registerModelVersion(db, input);
    await expect(registerModelVersion(db, { ...input, digest: OTHER, uri: `oci://r/local@${OTHER}` })).rejects.toMatchObject({ code: 'MODEL_REGISTRY_VERSION_EXISTS' });
  });
});

describe('a model registry URL with credentials', () => {
  it('is refused at once, without the secret in the message and without a request', async () => {
    let requests = 0;
    const counting = (async () => {
      requests++;
      return new Response('{}');
    }) as typeof fetch;
    let message = '';
    try {
      new ModelRegistryClient('http://user:hunter2@registry.example.com', { fetch: counting });
    } catch (err) {
      message = (err as Error).message;
      expect(err).toMatchObject({ code: 'USAGE' });
    }
    expect(message).toMatch(/carries credentials/);
    expect(message).not.toContain('hunter2');
    expect(requests).toBe(0);
    expect(() => new ModelRegistryClient('http://user:hunter2@[bad')).toThrow(/\*\*\*@/);
  });
});
