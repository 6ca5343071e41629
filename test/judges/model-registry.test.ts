/**
 * Kubeflow's Model Registry Python client (model-registry 0.3.18, PyPI) judges `modelship registry
 * serve`: its register_model and get_registered_model / get_model_version / get_model_artifact work
 * against our server, it reads what `modelship register` wrote, we read what it wrote, and a wrong
 * token is refused.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ModelRegistryClient } from '../../modules/registry/index.js';
import { CLI_PROCESS, runCli } from '../helpers/cli.js';
import { JUDGE_TEST_TIMEOUT, runJudge } from '../helpers/judges.js';

const TOKEN = 'judge-token';
const clientScript = path.join(import.meta.dirname, 'model-registry-client.py');

let work: string;
let env: NodeJS.ProcessEnv;
let server: ChildProcess;
let url: string;
let digest: string;
let ref: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'judge-mreg-'));
  env = { MODELSHIP_HOME: path.join(work, 'home'), HOME: work, MR_TOKEN: TOKEN };
  ref = `${inject('registry')}/judges/registry-chat:v1`;
  const project = path.join(work, 'registry-chat');
  for (const args of [['example', project], ['pack', project, '-t', ref], ['push', ref, '--plain-http'], ['register', ref, '--plain-http']]) {
    const res = await runCli(args, { env, cwd: work });
    if (res.code !== 0) throw new Error(`modelship ${args.join(' ')} failed (${res.code}): ${res.stderr}${res.stdout}`);
  }
  digest = (await runCli(['inspect', ref, '--plain-http', '--json'], { env, cwd: work })).json().digest;
  server = spawn(CLI_PROCESS.command, CLI_PROCESS.args(['registry', 'serve', '--port', '0', '--token-env', 'MR_TOKEN', '--json']), {
    cwd: work,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!).url);
    });
    server.on('exit', (code) => reject(new Error(`registry serve exited ${code}: ${out}`)));
  });
}, 240_000);

afterAll(async () => {
  server?.kill('SIGTERM');
  await rm(work, { recursive: true, force: true });
});

const client = (token: string, registerName: string) => runJudge('model-registry', [clientScript, url, token, registerName, 'registry-chat', 'v1']);

describe('the Kubeflow Model Registry client 0.3.18 against modelship registry serve', { timeout: JUDGE_TEST_TIMEOUT }, () => {
  it('registers a model and reads it back, reads what modelship register wrote, and we read what it wrote', async () => {
    const run = await client(TOKEN, 'kubeflow-registered');
    expect(run.exitCode, run.output).toBe(0);
    const seen = JSON.parse(run.stdout);
    expect(seen.missing).toBe(true);
    expect(seen.registered).toMatchObject({
      registeredModel: { name: 'kubeflow-registered', state: 'LIVE' },
      modelVersion: { name: 'v1', state: 'LIVE', author: 'judge', customProperties: { 'mof.class': '3', layers: 2, signed: true } },
      modelArtifact: { uri: `oci://registry.example.com/judges/kubeflow-registered@sha256:${'c'.repeat(64)}`, modelFormatName: 'gguf', modelFormatVersion: '3' },
    });
    expect(seen.registered.modelVersion.registeredModelId).toBe(seen.registered.registeredModel.id);
    expect(seen.read).toMatchObject({
      registeredModel: { name: 'registry-chat' },
      modelVersion: { name: 'v1' },
      modelArtifact: { uri: `oci://${ref.replace(/:v1$/, '')}@${digest}`, modelFormatName: 'gguf' },
    });

    const ours = new ModelRegistryClient(url, { token: TOKEN });
    const model = await ours.findRegisteredModel('kubeflow-registered');
    expect(model?.id).toBe(seen.registered.registeredModel.id);
    const version = await ours.findModelVersion('v1', model!.id);
    expect(version).toMatchObject({ id: seen.registered.modelVersion.id, author: 'judge' });
    const artifacts = await ours.listModelVersionArtifacts(version!.id);
    expect(artifacts.items.map((a) => a.uri)).toEqual([seen.registered.modelArtifact.uri]);
  });

  it('refuses the client a wrong token', async () => {
    const run = await client('not-the-token', 'never-registered');
    expect(run.exitCode).not.toBe(0);
    expect(run.output).toMatch(/401|[Uu]nauthori[sz]ed/);
    expect(await new ModelRegistryClient(url, { token: TOKEN }).findRegisteredModel('never-registered')).toBeUndefined();
  });
});
