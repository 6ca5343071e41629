import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { embeddedDatabasePath, openRegistryDatabase, startRegistryServer, ModelRegistryClient, type RegistryExchange } from '../../modules/registry/index.js';
import { SpecChecker } from './openapi.js';

const repoRoot = path.join(import.meta.dirname, '..', '..');

let work: string;
let home: string;
let env: NodeJS.ProcessEnv;
let ref: string;
let digest: string;
let sbomReferrer: string;
let signatureReferrer: string;

async function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}, cwd = work) {
  return runCli(args, { env: { ...env, ...extraEnv }, cwd });
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'mreg-cli-'));
  home = path.join(work, 'home');
  env = { MODELSHIP_HOME: home, HOME: work };
  ref = `${inject('registry')}/mreg/tiny-chat:v1`;
  const project = path.join(work, 'tiny-chat');
  for (const args of [
    ['example', project],
    ['pack', project, '-t', ref],
    ['keys', 'generate', '-o', path.join(work, 'dev')],
    ['sign', ref, '--key', path.join(work, 'dev.key')],
    ['sbom', ref, '--attach'],
    ['mof', ref, '--attach'],
    ['push', ref, '--plain-http'],
  ]) {
    const res = await cli(args);
    if (res.code !== 0) throw new Error(`modelship ${args.join(' ')} failed (${res.code}): ${res.stderr}${res.stdout}`);
  }
  const discovered = (await cli(['discover', ref, '--plain-http', '--json'])).json();
  digest = discovered.digest;
  const byType = (t: RegExp) => discovered.referrers.find((r: { artifactType?: string }) => t.test(r.artifactType ?? ''))?.digest;
  sbomReferrer = byType(/cyclonedx|spdx/);
  // The OpenSSF Model Signing bundle, which covers every file, is the signature register records.
  signatureReferrer = discovered.referrers.find((r: { annotations?: Record<string, string> }) => r.annotations?.['dev.sigstore.bundle.predicateType'] === 'https://model_signing/signature/v1.0')?.digest;
}, 240_000);

afterAll(() => rm(work, { recursive: true, force: true }));

describe('modelship register', () => {
  it('records the pushed model in the embedded registry, with signer, SBOM and MOF class; a second run creates nothing', async () => {
    expect(sbomReferrer).toMatch(/^sha256:/);
    expect(signatureReferrer).toMatch(/^sha256:/);
    const first = await cli(['register', ref, '--plain-http', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const out = first.json();
    expect(out.registry).toBe(`embedded:${embeddedDatabasePath(home)}`);
    expect(out.created).toEqual({ registeredModel: true, modelVersion: true, modelArtifact: true });
    const [registry, repo] = [inject('registry'), 'mreg/tiny-chat'];
    expect(out.input).toMatchObject({ name: 'tiny-chat', version: 'v1', digest, uri: `oci://${registry}/${repo}@${digest}`, modelFormatName: 'gguf' });
    expect(out.input.properties).toMatchObject({
      'oci.reference': `${registry}/${repo}:v1`,
      signature: expect.stringMatching(/^sigstore key/),
      'signature.referrer': signatureReferrer,
      'sbom.digest': sbomReferrer,
      'mof.class': expect.stringMatching(/^[123]$/),
    });
    const again = await cli(['register', ref, '--plain-http', '--json']);
    expect(again.json().created).toEqual({ registeredModel: false, modelVersion: false, modelArtifact: false });
    expect([again.json().registeredModelId, again.json().modelVersionId, again.json().modelArtifactId]).toEqual([out.registeredModelId, out.modelVersionId, out.modelArtifactId]);
    const text = await cli(['register', ref, '--plain-http']);
    expect(text.stdout).toContain(`registered tiny-chat v1 in embedded:`);
    expect(text.stdout).toContain('already there');
  });

  it('reads the registry itself when the store lacks the model, and writes a remote model registry given by flag, env or modelship.yaml', async () => {
    const otherHome = path.join(work, 'other-home');
    const db = await openRegistryDatabase(embeddedDatabasePath(path.join(work, 'remote-registry')));
    const exchanges: RegistryExchange[] = [];
    const server = await startRegistryServer({ database: db, token: 'tok', onExchange: (e) => exchanges.push(e) });
    try {
      const byFlag = await cli(['register', ref, '--plain-http', '--registry-url', server.url, '--token-env', 'MR_TOKEN', '--json'], { MODELSHIP_HOME: otherHome, MR_TOKEN: 'tok' });
      expect(byFlag.code, byFlag.stderr).toBe(0);
      expect(byFlag.json()).toMatchObject({ registry: server.url, created: { registeredModel: true } });
      expect(byFlag.json().input.digest).toBe(digest);
      expect(byFlag.json().input.properties['sbom.digest']).toBe(sbomReferrer);
      const byEnv = await cli(['register', ref, '--plain-http', '--json'], { MODELSHIP_HOME: otherHome, MODELSHIP_MODEL_REGISTRY_URL: server.url, MODEL_REGISTRY_TOKEN: 'tok' });
      expect(byEnv.json()).toMatchObject({ modelArtifactId: byFlag.json().modelArtifactId, created: { modelArtifact: false } });
      const projectDir = path.join(work, 'with-yaml');
      await rm(projectDir, { recursive: true, force: true });
      await mkdir(projectDir, { recursive: true });
      await writeFile(path.join(projectDir, 'modelship.yaml'), `pipeline:\n  modelRegistry:\n    url: ${server.url}\n`);
      const byYaml = await cli(['register', ref, '--plain-http', '--json', '--version', 'from-yaml'], { MODELSHIP_HOME: otherHome, MODEL_REGISTRY_TOKEN: 'tok' }, projectDir);
      expect(byYaml.code, byYaml.stderr).toBe(0);
      expect(byYaml.json()).toMatchObject({ registry: server.url, registeredModelId: byFlag.json().registeredModelId, created: { registeredModel: false, modelVersion: true } });
      const noToken = await cli(['register', ref, '--plain-http', '--registry-url', server.url], { MODELSHIP_HOME: otherHome });
      expect(noToken.code).toBe(5);
      expect(noToken.stderr).toContain('MODEL_REGISTRY_TOKEN');
      const checker = new SpecChecker();
      expect(exchanges.flatMap((e) => checker.check(e))).toEqual([]);
    } finally {
      await server.close();
      db.close();
    }
  });

  it('refuses what the cluster could not pull, and bad flags, with clear errors', async () => {
    const layout = await cli(['register', `oci:${path.join(work, 'layout')}:v1`]);
    expect(layout.code).toBe(4);
    const copy = await cli(['copy', ref, `oci:${path.join(work, 'layout')}:v1`, '--plain-http']);
    expect(copy.code, copy.stderr).toBe(0);
    const local = await cli(['register', `oci:${path.join(work, 'layout')}:v1`, '--json']);
    expect(local.code).toBe(2);
    expect(local.json().error.code).toBe('REGISTER_NOT_PINNABLE');
    expect(local.stderr).toContain('push it first');
    const noVar = await cli(['register', ref, '--plain-http', '--registry-url', 'http://127.0.0.1:9', '--token-env', 'NOPE']);
    expect(noVar.code).toBe(2);
    expect(noVar.stderr).toContain('NOPE');
    const badUrl = await cli(['register', ref, '--plain-http', '--registry-url', 'not a url']);
    expect(badUrl.code).toBe(2);
  });
});

describe('modelship registry serve', () => {
  it('serves the embedded registry that register wrote, until SIGTERM', async () => {
    const child = spawn(path.join(repoRoot, 'node_modules/.bin/tsx'), [path.join(repoRoot, 'test/infer/run-cli.ts'), 'registry', 'serve', '--port', '0', '--json'], {
      cwd: work,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const ready = await new Promise<{ url: string; database: string }>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n')[0];
        if (out.includes('\n')) resolve(JSON.parse(line!));
      });
      child.on('exit', (code) => reject(new Error(`registry serve exited ${code}: ${out}`)));
    });
    expect(ready.database).toBe(embeddedDatabasePath(home));
    const client = new ModelRegistryClient(ready.url);
    const model = await client.findRegisteredModel('tiny-chat');
    expect(model?.name).toBe('tiny-chat');
    const versions = await client.listModelVersions(model!.id);
    expect(versions.items.map((v) => v.name)).toEqual(['v1']);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toMatch(/"stopped": "SIGTERM"/);
  }, 60_000);
});
