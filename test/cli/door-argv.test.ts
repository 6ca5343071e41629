/**
 * Every door's command line, parsed by the CLI's own parser: the Dagger module's execs (every
 * function, with its options on and off), the Action's `ship` for each signing mode and hand-off
 * option and its `trace`, and the git hook's call. Flags come from the typed builder, so a flag the
 * CLI lacks fails to compile (the @ts-expect-error lines below); this test is the run-time half.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { dag } from '@dagger.io/dagger';
import { describe, expect, it } from 'vitest';
import { shipPlan, tracePlan } from '../../actions/pipeline/main.js';
import { CLI, Modelship, POLICY_DIR, POLICY_FILE_PATH, PUBLIC_KEY_PATH, TRACE_INPUT_PATH, TRUSTED_ROOT_PATH } from '../../dagger/src/index.js';
import { commandLine } from '../../modules/cli/argv.js';
import { parseCommandLine } from '../../modules/cli/main.js';
import { findCommand } from '../../modules/cli/registry.js';
import { queryOf, recordedExecs } from '../dagger/replay.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');

/** Parses `modelship ARGV` as main does; returns the flags and positionals, or throws its usage error. */
async function parse(argv: readonly string[]) {
  const [name, ...rest] = argv;
  const entry = findCommand(name!);
  if (!entry) throw new Error(`no command ${name}`);
  const { command } = await entry.load();
  return parseCommandLine(command, rest);
}

function daggerArgvs(): string[][] {
  const m = new Modelship(dag.directory());
  const src = dag.host().directory('/tmp/model');
  const secret = (n: string) => dag.setSecret(n, n);
  const file = dag.host().file('/tmp/signing.pub');
  const gitops = dag.host().directory('/tmp/gitops');
  const containers = [
    m.pack(src, 't:1'), m.sbom(src, 't:1', 'spdx'), m.card(src, 't:1'), m.mof(src, 't:1', '2'),
    m.sign(src, 't:1', secret('k')), m.verify('r/x:1', file, true, secret('d')),
    m.publish(src, 'r/x:1').container,
    m.publish(src, 'r/x:1', secret('k'), secret('p'), secret('d'), true, false, undefined, '', undefined, '3').container,
    m.publish(src, 'r/x:1', undefined, undefined, undefined, false, true, secret('t')).container,
    m.publish(src, 'r/x:1', undefined, undefined, undefined, false, false, undefined, '', undefined, '', true).container,
    m.handoff('r/x:1', 'https://github.com/acme/gitops', file).container,
    m.handoff('r/x:1', 'https://github.com/acme/gitops', undefined, '^https://github.com/acme/.*$', 'https://token.actions.githubusercontent.com', file, secret('g'), true, true, 'https://git.example/gitops', 'image-volume', 'prod', true, secret('d')).container,
    m.ci(src, 'r/x:1').container,
    m.ci(src, 'r/x:1', secret('k'), undefined, secret('d'), secret('g'), 'https://github.com/acme/gitops', true, 'argocd', 'https://git.example/gitops', '3', true).container,
    m.ci(src, 'r/x:1', undefined, undefined, undefined, undefined, '', false, '', '', '', false, true, undefined, 'https://token.example', secret('r')).container,
    // The cluster's admission policy: a GitOps folder or one file, its environment and trusted root.
    m.publish(src, 'r/x:1', secret('k'), undefined, undefined, true, false, undefined, '', undefined, '', false, '', undefined, gitops, undefined, 'prod', file).container,
    m.ci(src, 'r/x:1', secret('k'), undefined, undefined, undefined, 'https://github.com/acme/gitops', false, '', '', '', true, false, undefined, '', undefined, false, '', undefined, undefined, file, 'dev').container,
    // trace: from a storageUri or an InferenceService file, under a policy, a key or a keyless signer.
    m.trace('oci://r/x@sha256:0000000000000000000000000000000000000000000000000000000000000000'),
    m.trace('', file, 'tiny-chat', gitops, undefined, 'prod', undefined, '', '', file, 'https://registry.example', secret('t'), '3', true, secret('d')),
    m.trace('oci+native://r/x@sha256:0000000000000000000000000000000000000000000000000000000000000000', undefined, '', undefined, file),
    m.trace('oci://r/x@sha256:0000000000000000000000000000000000000000000000000000000000000000', undefined, '', undefined, undefined, '', file),
    m.trace('oci://r/x@sha256:0000000000000000000000000000000000000000000000000000000000000000', undefined, '', undefined, undefined, '', undefined, '^https://github.com/acme/', 'https://token.actions.githubusercontent.com', file),
  ];
  const execs = containers.flatMap((c) => recordedExecs(c).map((e) => e.args)).filter((a) => a[0] === CLI[0] && a[1] === CLI[1]);
  const services = [m.serve(src, 't:1', true), m.serve(src, 'r/x:1', false, gitops, undefined, 'prod', file, true, secret('d')), m.serve(src, 'r/x:1', false, undefined, file)];
  const serviceArgs = services.map((svc) => queryOf(svc).find((s) => s.operation === 'asService')!.args!['args'] as string[]);
  return [...execs, ...serviceArgs].map((a) => a.slice(CLI.length));
}

describe('every door\'s command line parses with the CLI\'s parser', () => {
  it('the Dagger module: every function, options on and off', async () => {
    const argvs = daggerArgvs();
    expect(argvs.length).toBeGreaterThanOrEqual(20);
    for (const argv of argvs) await expect(parse(argv), argv.join(' ')).resolves.toBeDefined();
    // handoff gets what it requires: a signer, and plain HTTP when asked.
    const handoff = argvs.filter((a) => a[0] === 'handoff');
    expect(handoff.every((a) => a.some((x) => x.startsWith('--key=') || x.startsWith('--cert-identity=')))).toBe(true);
    expect(handoff[1]).toEqual(expect.arrayContaining(['--pr', '--argocd', '--mount=image-volume', '--env=prod', '--plain-http', '--cluster-url=https://git.example/gitops']));
    // ci has the other doors' options.
    const ci = argvs.filter((a) => a[0] === 'ship' && a.some((x) => x.startsWith('--gitops=')));
    expect(ci[0]).toEqual(expect.arrayContaining(['--pr', '--flavor=argocd', '--require=3', '--plain-http', '--cluster-url=https://git.example/gitops', '--key=/run/secrets/modelship/signing.key']));
    // --policy where the functions wrap ship and serve: the folder or the file, its environment and trusted root.
    const gated = argvs.filter((a) => a.some((x) => x.startsWith('--policy=')));
    expect(gated.map((a) => a[0])).toEqual(['ship', 'ship', 'trace', 'trace', 'serve', 'serve']);
    expect(gated[0]).toEqual(expect.arrayContaining([`--policy=${POLICY_DIR}`, '--env=prod', `--trusted-root=${TRUSTED_ROOT_PATH}`, '--no-handoff']));
    expect(gated[1]).toEqual(expect.arrayContaining([`--policy=${POLICY_FILE_PATH}`, '--env=dev', '--gitops=https://github.com/acme/gitops']));
    expect(gated[4]).toEqual(expect.arrayContaining(['r/x:1', `--policy=${POLICY_DIR}`, '--env=prod', `--trusted-root=${TRUSTED_ROOT_PATH}`, '--plain-http']));
    // trace: what the CLI accepts, the input as its one positional.
    const traces = argvs.filter((a) => a[0] === 'trace');
    expect(traces).toHaveLength(5);
    expect(traces[0]).toEqual(['trace', 'oci://r/x@sha256:0000000000000000000000000000000000000000000000000000000000000000', '--json']);
    expect(traces[1]).toEqual(['trace', TRACE_INPUT_PATH, '--name=tiny-chat', `--policy=${POLICY_DIR}`, '--env=prod', `--trusted-root=${TRUSTED_ROOT_PATH}`, '--registry-url=https://registry.example', '--require=3', '--plain-http', '--json']);
    expect(traces[2]).toContain(`--policy=${POLICY_FILE_PATH}`);
    expect(traces[3]).toContain(`--key=${PUBLIC_KEY_PATH}`);
    expect(traces[4]).toEqual(expect.arrayContaining(['--cert-identity=^https://github.com/acme/', '--cert-oidc-issuer=https://token.actions.githubusercontent.com', `--trusted-root=${TRUSTED_ROOT_PATH}`]));
  });

  it('the Action: each signing mode and hand-off option', async () => {
    const base = { INPUT_PROJECT: 'model dir', INPUT_REFERENCE: 'ghcr.io/acme/tiny:v1', ACTIONS_ID_TOKEN_REQUEST_URL: 'u', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't' };
    const plans = [
      shipPlan(base),
      shipPlan({ ...base, INPUT_SIGNING: 'none', INPUT_REQUIRE: '2', 'INPUT_PLAIN-HTTP': 'true' }),
      shipPlan({ ...base, INPUT_SIGNING: 'key', INPUT_KEY: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n' }, '/tmp/k.pem'),
      shipPlan({ ...base, INPUT_SIGNING: 'key', MODELSHIP_SIGNING_KEY: 'keys/signing.key', INPUT_GITOPS: 'https://github.com/acme/gitops', INPUT_FLAVOR: 'argocd', 'INPUT_PULL-REQUEST': 'true', 'INPUT_CLUSTER-URL': 'https://git.example/g' }),
    ];
    for (const plan of plans) await expect(parse(plan.argv), plan.argv.join(' ')).resolves.toBeDefined();
    expect((await parse(plans[0]!.argv)).values).toMatchObject({ keyless: true, tag: 'ghcr.io/acme/tiny:v1', json: true, 'no-handoff': true });
    expect((await parse(plans[1]!.argv)).values).toMatchObject({ 'no-sign': true, require: '2', 'plain-http': true });
    expect((await parse(plans[2]!.argv)).values).toMatchObject({ key: '/tmp/k.pem' });
    expect(plans[2]!.argv.join(' ')).not.toContain('abc');
    expect((await parse(plans[3]!.argv)).values).toMatchObject({ key: 'keys/signing.key', gitops: 'https://github.com/acme/gitops', flavor: 'argocd', pr: true, 'cluster-url': 'https://git.example/g' });
    expect((await parse(plans[0]!.argv)).positionals).toEqual(['model dir']);
    // The cluster's admission policy, on ship and on trace.
    const gated = shipPlan({ ...base, INPUT_POLICY: 'gitops', 'INPUT_POLICY-ENV': 'prod', 'INPUT_TRUSTED-ROOT': 'trusted_root.json' });
    expect((await parse(gated.argv)).values).toMatchObject({ policy: 'gitops', env: 'prod', 'trusted-root': 'trusted_root.json', keyless: true });
    const traces = [
      tracePlan({ INPUT_TRACE: 'gitops/models/tiny-chat/overlays/dev/inferenceservice-pin.yaml' }),
      tracePlan({ INPUT_TRACE: 'oci://ghcr.io/acme/tiny@sha256:00', INPUT_POLICY: 'gitops', 'INPUT_POLICY-ENV': 'prod', 'INPUT_TRUSTED-ROOT': 'root.json', 'INPUT_REGISTRY-URL': 'https://mr.example', INPUT_REQUIRE: '3', 'INPUT_PLAIN-HTTP': 'true' }),
      tracePlan({ INPUT_TRACE: '-odd.yaml', 'INPUT_PUBLIC-KEY': 'cosign.pub' }),
    ];
    for (const argv of traces) await expect(parse(argv), argv.join(' ')).resolves.toBeDefined();
    expect(await parse(traces[0]!)).toMatchObject({ values: { json: true }, positionals: ['gitops/models/tiny-chat/overlays/dev/inferenceservice-pin.yaml'] });
    expect((await parse(traces[1]!)).values).toMatchObject({ policy: 'gitops', env: 'prod', 'trusted-root': 'root.json', 'registry-url': 'https://mr.example', require: '3', 'plain-http': true });
    expect(await parse(traces[2]!)).toMatchObject({ values: { key: 'cosign.pub' }, positionals: ['-odd.yaml'] });
  });

  it('the git hook: the call it makes', async () => {
    const hook = readFileSync(path.join(repoRoot, 'hooks', 'pre-push'), 'utf8');
    const calls = [...hook.matchAll(/(?:modelship|\$MODELSHIP_BIN|installed) (hooks run pre-push) "\$@"/g)].map((m) => m[1]!);
    expect(calls.length).toBeGreaterThanOrEqual(3);
    for (const call of new Set(calls)) {
      const argv = [...call.split(' '), 'origin', 'https://example.com/repo.git'];
      expect(argv.slice(0, 3)).toEqual(commandLine('hooks', ['run', 'pre-push']));
      await expect(parse(argv)).resolves.toMatchObject({ positionals: ['run', 'pre-push', 'origin', 'https://example.com/repo.git'] });
    }
  });

  it('a value that starts with "-" stays a value, and a positional that does stays a positional', async () => {
    const argv = commandLine('ship', ['-odd-folder'], { tag: '-odd:tag', json: true });
    expect(await parse(argv)).toMatchObject({ values: { tag: '-odd:tag', json: true }, positionals: ['-odd-folder'] });
  });

  it('refuses, at compile time, a flag the command does not have', () => {
    // @ts-expect-error: handoff has no --flavor (the Dagger module once passed it)
    expect(() => commandLine('handoff', ['r'], { flavor: 'flux' })).not.toThrow();
    // @ts-expect-error: --pr is a switch, not a value
    expect(commandLine('ship', ['.'], { pr: 'yes' })).toBeDefined();
    // @ts-expect-error: trace has no --gitops (the policy is --policy)
    expect(commandLine('trace', ['isvc.yaml'], { gitops: 'g' })).toBeDefined();
  });
});
