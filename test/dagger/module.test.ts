/**
 * The Dagger module without an engine: its pipelines are lazy, so each function's query (base image,
 * cache volumes, mounts, secrets, the exact CLI argv) is read from the object it returns.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { dag } from '@dagger.io/dagger';
import { describe, expect, it } from 'vitest';
import { BASE_IMAGE, cliArgs, CLI_DIR, Modelship, MODELSHIP_HOME, PROJECT_DIR, SIGNING_KEY_PATH } from '../../dagger/src/index.js';
import { COMMANDS } from '../../modules/cli/registry.js';
import { findCommand } from '../../modules/cli/registry.js';

interface Step {
  operation: string;
  args?: Record<string, unknown>;
}

/** The lazy GraphQL selection chain a Dagger object stands for. */
function query(obj: unknown): Step[] {
  return (obj as { _ctx: { _queryTree: Step[] } })._ctx._queryTree;
}

function ops(obj: unknown, name: string): Step[] {
  return query(obj).filter((s) => s.operation === name);
}

function execs(obj: unknown): string[][] {
  return ops(obj, 'withExec').map((s) => s.args!['args'] as string[]);
}

/** The name a cache volume or secret was made with. */
function argName(value: unknown): string | undefined {
  return query(value).at(-1)?.args?.['key'] as string | undefined ?? query(value).at(-1)?.args?.['name'] as string | undefined;
}

const module = () => new Modelship(dag.directory());
const project = () => dag.host().directory('/tmp/model');
const PLAINTEXT = 'plaintext-that-must-stay-secret';
const secret = (name: string) => dag.setSecret(name, PLAINTEXT);

describe('Dagger module', () => {
  it('builds the CLI from this repository on Node 20 with npm and the store as cache volumes', () => {
    const cli = module().cli();
    expect(ops(cli, 'from')[0]?.args).toEqual({ address: BASE_IMAGE });
    const caches = ops(cli, 'withMountedCache').map((s) => [s.args!['path'], argName(s.args!['cache'])]);
    expect(caches).toEqual([['/root/.npm', 'modelship-npm'], [MODELSHIP_HOME, 'modelship-store']]);
    expect(ops(cli, 'withDirectory')[0]?.args?.['path']).toBe(CLI_DIR);
    expect(execs(cli).slice(1)).toEqual([['npm', 'ci', '--no-audit', '--no-fund'], ['npm', 'run', 'build']]);
    expect(Object.fromEntries(ops(cli, 'withEnvVariable').map((s) => [s.args!['name'], s.args!['value']]))).toMatchObject({ MODELSHIP_HOME, MODELSHIP_BUILDER: 'dagger' });
  });

  it('runs each step as the same CLI command a laptop runs', () => {
    const m = module();
    expect(execs(m.pack(project(), 'tiny:v1')).at(-1)).toEqual(cliArgs('pack', PROJECT_DIR, '-t', 'tiny:v1'));
    expect(execs(m.sbom(project(), 'tiny:v1', 'spdx')).at(-1)).toEqual(cliArgs('sbom', 'tiny:v1', '--format', 'spdx', '--attach', '-o', '/tmp/sbom.json'));
    expect(execs(m.card(project(), 'tiny:v1')).at(-1)).toEqual(cliArgs('card', 'tiny:v1', '--attach'));
    expect(execs(m.mof(project(), 'tiny:v1')).at(-1)).toEqual(cliArgs('mof', 'tiny:v1', '--require', '3', '--attach'));
    expect(execs(m.ci(project(), 'ghcr.io/acme/tiny:v1', undefined, undefined, undefined, undefined, 'https://github.com/acme/gitops')).at(-1))
      .toEqual(cliArgs('ship', PROJECT_DIR, '-t', 'ghcr.io/acme/tiny:v1', '--gitops', 'https://github.com/acme/gitops', '--json'));
    expect(execs(m.handoff('ghcr.io/acme/tiny:v1', 'https://github.com/acme/gitops', secret('gh'), true)).at(-1))
      .toEqual(cliArgs('handoff', 'ghcr.io/acme/tiny:v1', '--gitops', 'https://github.com/acme/gitops', '--flavor', 'flux', '--pr', '--json'));
    // Every command a function runs exists in the CLI.
    for (const fn of [m.pack(project(), 't:1'), m.sbom(project(), 't:1'), m.card(project(), 't:1'), m.mof(project(), 't:1'), m.ci(project(), 'r:1'), m.handoff('r:1', 'g')]) {
      const command = execs(fn).at(-1)![2]!;
      expect(findCommand(command) ?? command, `modelship ${command}`).not.toBe(command);
    }
    expect(COMMANDS.length).toBeGreaterThan(0);
  });

  it('passes the signing key, its password and registry credentials only as secrets', () => {
    const signed = module().sign(project(), 'tiny:v1', secret('key'), secret('password'));
    expect(ops(signed, 'withMountedSecret').map((s) => [s.args!['path'], argName(s.args!['source'])])).toEqual([[SIGNING_KEY_PATH, 'key']]);
    expect(ops(signed, 'withSecretVariable').map((s) => [s.args!['name'], argName(s.args!['secret'])])).toEqual([['MODELSHIP_KEY_PASSWORD', 'password']]);
    expect(execs(signed).at(-1)).toEqual(cliArgs('sign', 'tiny:v1', '--key', SIGNING_KEY_PATH));
    // No secret value appears in the container's own arguments (only inside the Secret objects).
    const plain = query(signed).flatMap((s) => Object.values(s.args ?? {}).filter((v) => typeof v === 'string' || Array.isArray(v)));
    expect(JSON.stringify(plain)).not.toContain(PLAINTEXT);

    const published = module().publish(project(), '127.0.0.1:5000/t:1', secret('key'), undefined, secret('docker'), true);
    expect(ops(published, 'withMountedSecret').map((s) => s.args!['path'])).toEqual([SIGNING_KEY_PATH, '/root/.docker/config.json']);
    expect(execs(published).at(-1)).toEqual(cliArgs('ship', PROJECT_DIR, '-t', '127.0.0.1:5000/t:1', '--no-handoff', '--json', '--plain-http'));
  });

  it('serves the model as a Service on port 8080, with every GPU only when asked', () => {
    const cpu = module().serve(project(), 'tiny:v1');
    const gpu = module().serve(project(), 'tiny:v1', true);
    const asService = (svc: unknown) => ops(svc, 'asService')[0]?.args?.['args'];
    expect(asService(cpu)).toEqual(cliArgs('serve', 'tiny:v1', '--host', '0.0.0.0', '--port', '8080', '--gpu', 'none'));
    expect(asService(gpu)).toEqual(cliArgs('serve', 'tiny:v1', '--host', '0.0.0.0', '--port', '8080', '--gpu', 'auto'));
    expect(ops(cpu, 'withExposedPort')[0]?.args?.['port']).toBe(8080);
    expect(ops(cpu, 'experimentalWithAllGPUs')).toHaveLength(0);
    expect(ops(gpu, 'experimentalWithAllGPUs')).toHaveLength(1);
  });

  it('declares the module as the Dagger engine loads it', () => {
    const root = path.resolve(import.meta.dirname, '..', '..');
    const manifest = JSON.parse(readFileSync(path.join(root, 'dagger.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: 'modelship', sdk: { source: 'typescript' }, source: 'dagger' });
    const pkg = JSON.parse(readFileSync(path.join(root, 'dagger', 'package.json'), 'utf8'));
    const rootPkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(pkg.dependencies['@dagger.io/dagger']).toBe(rootPkg.devDependencies['@dagger.io/dagger']);
    expect(manifest.engineVersion).toBe(`v${pkg.dependencies['@dagger.io/dagger']}`);
  });
});
