import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_BASE_PATH, API_V1_PATH, ModelRegistryClient, embeddedDatabasePath, openRegistryDatabase, registerModelVersion, startRegistryServer, type RegistryDatabase, type RunningRegistryServer } from '../../modules/registry/index.js';

let dir: string;
let db: RegistryDatabase;
let server: RunningRegistryServer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mreg-v1-'));
  db = await openRegistryDatabase(embeddedDatabasePath(dir));
  server = await startRegistryServer({ database: db });
  const digest = `sha256:${'d'.repeat(64)}`;
  await registerModelVersion(new ModelRegistryClient(server.url), { name: 'tiny-chat', version: 'v1', digest, uri: `oci://registry.example.com/team/tiny-chat@${digest}`, modelFormatName: 'gguf', properties: {} });
});

afterAll(async () => {
  await server.close();
  db.close();
  await rm(dir, { recursive: true, force: true });
});

describe('registry serve under the path Kubeflow Python client 0.3.18 calls', () => {
  // model-registry 0.3.18 (PyPI) mr_openapi/api/model_registry_service_api.py: resource_path="/api/model_registry/v1/registered_models".
  it('answers /api/model_registry/v1 as it answers v1alpha3', async () => {
    const get = async (base: string, rest: string) => {
      const res = await fetch(`${server.url}${base}${rest}`);
      return { status: res.status, body: (await res.json()) as { items: { name: string }[] } };
    };
    const v1 = await get(API_V1_PATH, '/registered_models?pageSize=10');
    expect(v1.status).toBe(200);
    expect(v1.body).toEqual((await get(API_BASE_PATH, '/registered_models?pageSize=10')).body);
    expect(v1.body.items.map((m: { name: string }) => m.name)).toEqual(['tiny-chat']);
    const found = await get(API_V1_PATH, '/registered_model?name=tiny-chat');
    expect(found).toMatchObject({ status: 200, body: { name: 'tiny-chat' } });
    expect((await get('/api/model_registry/v2', '/registered_models')).status).toBe(404);
  });
});
