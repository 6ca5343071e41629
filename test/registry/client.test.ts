import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ModelRegistryClient,
  openRegistryDatabase,
  registerModelVersion,
  startRegistryServer,
  createRegisterModelVersion,
  embeddedDatabasePath,
  type RegisterInput,
  type RegistryDatabase,
  type RegistryExchange,
  type RunningRegistryServer,
} from '../../modules/registry/index.js';
import { SpecChecker, loadSpec } from './openapi.js';
import { startFaultProxy, type FaultAction } from '../helpers/fault-proxy.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER_DIGEST = `sha256:${'b'.repeat(64)}`;

function input(name: string, version = 'v1', digest = DIGEST): RegisterInput {
  return {
    name,
    version,
    digest,
    uri: `oci://registry.example.com/team/${name}@${digest}`,
    modelFormatName: 'gguf',
    properties: { signature: 'sigstore key abc', 'sbom.digest': OTHER_DIGEST, 'mof.class': '3' },
  };
}

let dir: string;
let db: RegistryDatabase;
let server: RunningRegistryServer;
let client: ModelRegistryClient;
const exchanges: RegistryExchange[] = [];
/** Requests a test sent out of spec on purpose, to see the server's answer: only the answer is checked. */
const deliberatelyBad = new Set<string>();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mreg-client-'));
  db = await openRegistryDatabase(embeddedDatabasePath(dir));
  server = await startRegistryServer({ database: db, onExchange: (e) => exchanges.push(e) });
  client = new ModelRegistryClient(server.url, { backoffMs: 10 });
});

afterAll(async () => {
  await server.close();
  db.close();
  await rm(dir, { recursive: true, force: true });
});

describe('model registry client against the embedded server', () => {
  it('registers a model version with its artifact pinned by digest', async () => {
    const result = await registerModelVersion(client, input('tiny-chat'));
    expect(result.created).toEqual({ registeredModel: true, modelVersion: true, modelArtifact: true });
    expect(result.registry).toBe(server.url);
    for (const id of [result.registeredModelId, result.modelVersionId, result.modelArtifactId]) expect(id).toMatch(/^[1-9][0-9]*$/);
    const model = await client.getRegisteredModel(result.registeredModelId);
    expect(model.name).toBe('tiny-chat');
    const version = await client.findModelVersion('v1', result.registeredModelId);
    expect(version?.id).toBe(result.modelVersionId);
    const artifacts = await client.listModelVersionArtifacts(result.modelVersionId);
    expect(artifacts.items).toHaveLength(1);
    const artifact = artifacts.items[0]!;
    expect(artifact).toMatchObject({ id: result.modelArtifactId, artifactType: 'model-artifact', uri: `oci://registry.example.com/team/tiny-chat@${DIGEST}`, modelFormatName: 'gguf', modelFormatVersion: '1' });
    expect(artifact.customProperties).toMatchObject({
      'oci.digest': { metadataType: 'MetadataStringValue', string_value: DIGEST },
      signature: { metadataType: 'MetadataStringValue', string_value: 'sigstore key abc' },
      'mof.class': { metadataType: 'MetadataStringValue', string_value: '3' },
    });
  });

  it('is idempotent: a second run creates nothing and returns the same ids', async () => {
    const first = await registerModelVersion(client, input('idem'));
    const before = exchanges.length;
    const second = await registerModelVersion(client, input('idem'));
    expect(second.created).toEqual({ registeredModel: false, modelVersion: false, modelArtifact: false });
    expect([second.registeredModelId, second.modelVersionId, second.modelArtifactId]).toEqual([first.registeredModelId, first.modelVersionId, first.modelArtifactId]);
    expect(exchanges.slice(before).filter((e) => e.method !== 'GET')).toEqual([]);
  });

  it('refuses to point an existing version at another digest, and leaves it as it was', async () => {
    const first = await registerModelVersion(client, input('moved'));
    await expect(registerModelVersion(client, input('moved', 'v1', OTHER_DIGEST))).rejects.toMatchObject({ code: 'MODEL_REGISTRY_VERSION_EXISTS' });
    const [artifact] = (await client.listModelVersionArtifacts(first.modelVersionId)).items;
    expect(artifact?.uri).toBe(`oci://registry.example.com/team/moved@${DIGEST}`);
  });

  it('concurrent registrations of the same version agree on one set of ids', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => registerModelVersion(client, input('racy'))));
    expect(new Set(results.map((r) => `${r.registeredModelId}/${r.modelVersionId}/${r.modelArtifactId}`)).size).toBe(1);
    expect(results.filter((r) => r.created.registeredModel)).toHaveLength(1);
    const all = await listAll((token) => client.listRegisteredModels({ pageSize: 50, ...(token ? { nextPageToken: token } : {}) }));
    expect(all.filter((m) => m.name === 'racy')).toHaveLength(1);
  });

  it('pages lists with pageSize and an opaque nextPageToken, ordered by ID, CREATE_TIME or LAST_UPDATE_TIME', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await client.createRegisteredModel({ name: `paged-${i}` })).id);
    const asc = (await listAll((token) => client.listRegisteredModels({ pageSize: 3, orderBy: 'ID', ...(token ? { nextPageToken: token } : {}) }))).map((m) => m.id);
    expect(asc.filter((id) => ids.includes(id))).toEqual(ids);
    const desc = (await listAll((token) => client.listRegisteredModels({ pageSize: 3, orderBy: 'CREATE_TIME', sortOrder: 'DESC', ...(token ? { nextPageToken: token } : {}) }))).map((m) => m.id);
    expect(desc.filter((id) => ids.includes(id))).toEqual([...ids].reverse());
    const first = await client.listRegisteredModels({ pageSize: 3 });
    expect(first.size).toBe(3);
    expect(first.pageSize).toBe(3);
    expect(first.nextPageToken).not.toBe('');
    // Touching the first model moves it last by LAST_UPDATE_TIME.
    db.update('registered-model', Number(ids[0]), { description: 'touched' });
    const byUpdate = (await listAll((token) => client.listRegisteredModels({ pageSize: 4, orderBy: 'LAST_UPDATE_TIME', ...(token ? { nextPageToken: token } : {}) }))).map((m) => m.id);
    expect(byUpdate[byUpdate.length - 1]).toBe(ids[0]);
    // A token is bound to its ordering.
    await expect(client.listRegisteredModels({ pageSize: 3, orderBy: 'LAST_UPDATE_TIME', nextPageToken: first.nextPageToken })).rejects.toMatchObject({ code: 'MODEL_REGISTRY_BAD_REQUEST' });
  });

  it('answers 404, 409 and 400 with coded errors that name the URL', async () => {
    await expect(client.getRegisteredModel('999999')).rejects.toMatchObject({ code: 'MODEL_REGISTRY_NOT_FOUND', message: expect.stringContaining(`${server.url}/api/model_registry/v1alpha3/registered_models/999999`) });
    await client.createRegisteredModel({ name: 'dup' });
    await expect(client.createRegisteredModel({ name: 'dup' })).rejects.toMatchObject({ code: 'MODEL_REGISTRY_CONFLICT', message: expect.stringContaining('409') });
    await expect(client.createModelVersion({ name: 'v1', registeredModelId: '999999' })).rejects.toMatchObject({ code: 'MODEL_REGISTRY_NOT_FOUND' });
    await expect(registerModelVersion(client, { ...input('bad'), uri: 'oci://registry.example.com/team/bad:v1' })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });

  it('serves the rest of the routes the API has for these entities: get, patch, find and nested lists', async () => {
    const api = `${server.url}/api/model_registry/v1alpha3`;
    const call = async (method: string, url: string, body?: unknown) => {
      const res = await fetch(`${api}${url}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    const r = await registerModelVersion(client, input('routes'));
    expect((await call('PATCH', `/registered_models/${r.registeredModelId}`, { description: 'patched', owner: 'team-a' })).body).toMatchObject({ description: 'patched', owner: 'team-a', name: 'routes' });
    expect((await call('PATCH', `/model_versions/${r.modelVersionId}`, { state: 'ARCHIVED' })).body).toMatchObject({ state: 'ARCHIVED', registeredModelId: r.registeredModelId });
    const patched = await call('PATCH', `/model_artifacts/${r.modelArtifactId}`, { artifactType: 'model-artifact', modelFormatVersion: '3' });
    expect(patched.body).toMatchObject({ modelFormatVersion: '3', uri: input('routes').uri });
    expect((await call('GET', `/model_artifacts/${r.modelArtifactId}`)).body['id']).toBe(r.modelArtifactId);
    expect((await call('GET', `/model_artifact?name=routes&parentResourceId=${r.modelVersionId}`)).body['id']).toBe(r.modelArtifactId);
    expect((await call('GET', `/model_versions/${r.modelVersionId}`)).body['name']).toBe('v1');
    expect((await call('GET', `/registered_models/${r.registeredModelId}/versions?pageSize=5&orderBy=CREATE_TIME&sortOrder=DESC`)).body['items']).toHaveLength(1);
    expect((await call('POST', `/registered_models/${r.registeredModelId}/versions`, { name: 'v2', registeredModelId: r.registeredModelId })).status).toBe(201);
    expect((await call('GET', '/model_versions?pageSize=2')).body['size']).toBe(2);
    expect((await call('GET', '/model_artifacts?pageSize=2&sortOrder=DESC')).body['items']).toHaveLength(2);
    expect((await call('GET', `/model_versions/${r.modelVersionId}/artifacts?artifactType=doc-artifact`)).body).toMatchObject({ items: [], size: 0 });
    expect((await call('GET', `/registered_model?externalId=none`)).status).toBe(404);
    for (const bad of ['POST /registered_models', 'GET /registered_models?pageSize=0']) deliberatelyBad.add(bad);
    expect((await call('PATCH', `/registered_models/${r.registeredModelId}`, { name: 'renamed' })).status).toBe(400);
    expect((await call('POST', '/registered_models', { name: '' })).status).toBe(400);
    expect((await call('GET', '/registered_models?pageSize=0')).status).toBe(400);
    expect((await call('POST', `/model_versions/${r.modelVersionId}/artifacts`, { artifactType: 'doc-artifact', uri: 'x' })).status).toBe(400);
  });

  it('every request the client sent and every body the server returned validates against the published spec', () => {
    const checker = new SpecChecker();
    expect(exchanges.length).toBeGreaterThan(40);
    expect(new Set(exchanges.map((e) => e.status))).toEqual(new Set([200, 201, 400, 404, 409]));
    const bad = (e: RegistryExchange) => deliberatelyBad.has(`${e.method} ${e.url.replace('/api/model_registry/v1alpha3', '')}`) && e.status === 400;
    expect(exchanges.filter(bad)).toHaveLength(2);
    expect(exchanges.flatMap((e) => checker.check(e, { request: !bad(e) }))).toEqual([]);
  });
});

describe('the published spec needs its discriminators rewritten', () => {
  it('plain oneOf rejects a valid model artifact (it also matches the other artifact types); the rewrite accepts it and still rejects bad ones', () => {
    const artifact = { artifactType: 'model-artifact', id: '1', name: 'm', uri: 'oci://h/r@sha256:x', createTimeSinceEpoch: '1', lastUpdateTimeSinceEpoch: '1' };
    const published = new SpecChecker(loadSpec());
    expect(published.validate({ $ref: '#/components/schemas/Artifact' }, artifact, 'published')).not.toEqual([]);
    const rewritten = new SpecChecker();
    expect(rewritten.validate({ $ref: '#/components/schemas/Artifact' }, artifact, 'rewritten')).toEqual([]);
    expect(rewritten.validate({ $ref: '#/components/schemas/Artifact' }, { ...artifact, id: 7 }, 'rewritten')).not.toEqual([]);
    expect(rewritten.validate({ $ref: '#/components/schemas/Artifact' }, { ...artifact, artifactType: 'nonsense' }, 'rewritten')).not.toEqual([]);
    expect(rewritten.validate({ $ref: '#/components/schemas/MetadataValue' }, { metadataType: 'MetadataStringValue', string_value: 3 }, 'rewritten')).not.toEqual([]);
  });
});

describe('model registry client: auth, retries and the hand-off factory', () => {
  it('sends the Bearer token; without it a guarded registry answers 401, which names the URL and the fix', async () => {
    const guarded = await startRegistryServer({ database: db, token: 's3cret' });
    try {
      await expect(new ModelRegistryClient(guarded.url).findRegisteredModel('x')).rejects.toMatchObject({
        code: 'MODEL_REGISTRY_UNAUTHORIZED',
        message: expect.stringMatching(new RegExp(`${guarded.url}.*--token-env`)),
      });
      await expect(new ModelRegistryClient(guarded.url, { token: 'wrong' }).findRegisteredModel('x')).rejects.toMatchObject({ code: 'MODEL_REGISTRY_UNAUTHORIZED' });
      const result = await createRegisterModelVersion({ url: guarded.url, token: 's3cret' })(input('guarded'));
      expect(result.created.registeredModel).toBe(true);
    } finally {
      await guarded.close();
    }
  });

  it('retries 503s and dropped connections with backoff; 403 from a proxy in front is not retried', async () => {
    // The fault proxy stands where an auth proxy (kube-rbac-proxy, Istio) stands in a cluster.
    const proxy = await startFaultProxy(new URL(server.url).host);
    let plan: FaultAction[] = [];
    proxy.rule = () => plan.shift();
    const proxyUrl = `http://${proxy.host}`;
    const answered = () => proxy.log.length;
    try {
      const viaProxy = new ModelRegistryClient(proxyUrl, { backoffMs: 5 });
      const unavailable: FaultAction = { kind: 'respond', status: 503, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: 'UNAVAILABLE', message: 'try later' }) };
      plan = [unavailable, { kind: 'drop' }];
      const result = await registerModelVersion(viaProxy, input('through-proxy'));
      expect(result.created.registeredModel).toBe(true);
      expect(proxy.log.slice(0, 3).map((l) => l.action)).toEqual(['respond', 'drop', 'pass']);
      let before = answered();
      plan = [{ kind: 'respond', status: 403, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: 'FORBIDDEN', message: 'RBAC: access denied' }) }];
      await expect(viaProxy.findRegisteredModel('through-proxy')).rejects.toMatchObject({ code: 'MODEL_REGISTRY_DENIED', message: expect.stringContaining('RBAC: access denied') });
      expect(answered() - before).toBe(1);
      before = answered();
      plan = [unavailable, unavailable, unavailable, unavailable];
      await expect(viaProxy.findRegisteredModel('through-proxy')).rejects.toMatchObject({ code: 'MODEL_REGISTRY_SERVER', message: expect.stringContaining('503') });
      expect(answered() - before).toBe(4);
    } finally {
      await proxy.stop();
    }
  });

  it('a registry that is not there is a network error naming the URL', async () => {
    const closed = await startRegistryServer({ database: db });
    await closed.close();
    await expect(new ModelRegistryClient(closed.url, { attempts: 2, backoffMs: 5 }).findRegisteredModel('x')).rejects.toMatchObject({ code: 'MODEL_REGISTRY_NETWORK', message: expect.stringContaining(closed.url) });
  });

  it('without a URL the factory writes the embedded database under MODELSHIP_HOME', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'mreg-home-'));
    try {
      const register = createRegisterModelVersion({ home });
      const first = await register(input('local'));
      const second = await register(input('local'));
      expect(first.registry).toBe(`embedded:${embeddedDatabasePath(home)}`);
      expect(second.created).toEqual({ registeredModel: false, modelVersion: false, modelArtifact: false });
      expect(second.modelArtifactId).toBe(first.modelArtifactId);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

async function listAll<T>(page: (token?: string) => Promise<{ items: T[]; nextPageToken: string }>): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const p = await page(token);
    out.push(...p.items);
    token = p.nextPageToken || undefined;
  } while (token);
  return out;
}
