/**
 * The pipeline action's logic: runs "modelship ship" with the action's inputs (its command line built
 * by the CLI's own typed builder), then writes the job summary and outputs from its JSON record. With
 * the input "trace" it runs "modelship trace" on a deployed model instead, and fails the step at the
 * first broken link.
 * actions/setup compiles it to dist/actions/pipeline/main.js; main.mjs beside action.yml runs it.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { commandLine, type FlagsOf } from '../../modules/cli/argv.js';

type Env = NodeJS.ProcessEnv;
export type Signing = 'keyless' | 'key' | 'none';

/** An input as the runner passes it: INPUT_<NAME>, name upper-cased, spaces as underscores. */
export function input(name: string, env: Env = process.env): string {
  return (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}

/** A refusal of the action's own, before modelship runs (nothing is pushed). */
export class ActionInputError extends Error {}

export interface ShipPlan {
  argv: string[];
  /** A key given as PEM text, to be written to a private file passed as --key. */
  keyText?: string;
}

/** The `modelship ship` command line for these inputs; `keyFile` stands for a key given as text. */
export function shipPlan(env: Env = process.env, keyFile = '<key file>'): ShipPlan {
  const signing = (input('signing', env) || 'keyless') as Signing;
  if (!['keyless', 'key', 'none'].includes(signing)) throw new ActionInputError(`input "signing" must be keyless, key or none, not "${signing}"`);
  const flags: FlagsOf<'ship'> = { json: true };
  const reference = input('reference', env);
  if (reference) flags.tag = reference;
  let keyText: string | undefined;
  if (signing === 'none') flags['no-sign'] = true;
  if (signing === 'keyless') {
    if (!env['SIGSTORE_ID_TOKEN'] && !(env['ACTIONS_ID_TOKEN_REQUEST_URL'] && env['ACTIONS_ID_TOKEN_REQUEST_TOKEN'])) {
      throw new ActionInputError('signing: keyless needs the job\'s OIDC token: add "permissions: id-token: write" to the job (or set SIGSTORE_ID_TOKEN), or use signing: key with a key');
    }
    flags.keyless = true;
  }
  if (signing === 'key') {
    const key = input('key', env) || env['MODELSHIP_SIGNING_KEY'] || '';
    if (!key) throw new ActionInputError('signing: key needs the key: set the input "key" (or MODELSHIP_SIGNING_KEY) to the private key\'s PEM text from a secret, or to its path');
    if (key.includes('-----BEGIN')) keyText = key;
    flags.key = keyText ? keyFile : key;
  }
  const require = input('require', env);
  if (require) flags.require = require;
  const gitops = input('gitops', env);
  if (gitops) {
    flags.gitops = gitops;
    flags.flavor = input('flavor', env) || 'flux';
    if (input('pull-request', env) === 'true') flags.pr = true;
    const clusterUrl = input('cluster-url', env);
    if (clusterUrl) flags['cluster-url'] = clusterUrl;
  } else {
    flags['no-handoff'] = true;
  }
  if (input('plain-http', env) === 'true') flags['plain-http'] = true;
  Object.assign(flags, policyFlags(env));
  return { argv: commandLine('ship', [input('project', env) || '.'], flags), ...(keyText ? { keyText } : {}) };
}

/** The cluster's admission policy, as ship and trace take it: --policy, --env, --trusted-root. */
function policyFlags(env: Env): { policy?: string; env?: string; 'trusted-root'?: string } {
  const policy = input('policy', env);
  const policyEnv = input('policy-env', env);
  const trustedRoot = input('trusted-root', env);
  // policy-env alone goes through too: the CLI refuses --env without --policy rather than ignore it.
  return { ...(policy ? { policy } : {}), ...(policyEnv ? { env: policyEnv } : {}), ...(trustedRoot ? { 'trusted-root': trustedRoot } : {}) };
}

/** The `modelship trace` command line for the input "trace": whom to trust, the model registry, the gate. */
export function tracePlan(env: Env = process.env): string[] {
  const given = input('trace', env);
  const shipping = ['reference', 'gitops'].filter((name) => input(name, env));
  if (shipping.length) throw new ActionInputError(`input "trace" traces a deployed model, and ${shipping.map((n) => `"${n}"`).join(' and ')} ship one: one action step does one of them; split it into two steps`);
  const flags: FlagsOf<'trace'> = { json: true, ...policyFlags(env) };
  const publicKey = input('public-key', env);
  if (publicKey) flags.key = publicKey;
  const registryUrl = input('registry-url', env);
  if (registryUrl) flags['registry-url'] = registryUrl;
  const require = input('require', env);
  if (require) flags.require = require;
  if (input('plain-http', env) === 'true') flags['plain-http'] = true;
  return commandLine('trace', [given], flags);
}

/** Workflow-command data: % CR LF escaped, so a multi-line message stays one annotation (@actions/core escapeData). */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Workflow-command property values also escape : and , (@actions/core escapeProperty). */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function errorCommand(message: string, title?: string): string {
  return `::error${title ? ` title=${escapeProperty(title)}` : ''}::${escapeData(message)}`;
}

interface StepRecord { step: string; status: 'passed' | 'failed' | 'skipped'; seconds: number; summary: string; fix?: string[]; data?: Record<string, any> }
interface PipelineRecord { ok: boolean; reference: string; digest?: string; failed?: string; steps: StepRecord[]; error?: { code: string; message: string } }

const ICON = { passed: '✅', failed: '❌', skipped: '⏭️' };
const ROMAN = ['unclassified', 'Class I', 'Class II', 'Class III'];

/** The job summary: MOF badge, digest, signature and SBOM counts, and one row per step. */
export function summaryMarkdown(result: PipelineRecord): string {
  const step = (name: string) => result.steps.find((s) => s.step === name);
  const mof = step('mof')?.data;
  const sbom = step('sbom')?.data;
  const sign = step('sign');
  const badge = mof ? `![MOF ${ROMAN[mof['class']] ?? mof['class']}](https://img.shields.io/badge/MOF-${encodeURIComponent((ROMAN[mof['class']] ?? String(mof['class'])).replace(/ /g, '_'))}-${mof['class'] ? 'brightgreen' : 'lightgrey'})` : '';
  const lines = [
    `## modelship: ${result.reference} ${result.ok ? 'shipped' : `failed at ${result.failed}`}`,
    '',
    badge,
    '',
    `- **Digest:** \`${result.digest ?? 'not packed'}\``,
    `- **MOF:** ${mof ? `${mof['label']}${mof['require'] ? ` (required: ${ROMAN[mof['require']]})` : ''}` : 'not evaluated'}`,
    `- **Signature:** ${sign ? `${sign.status}: ${sign.summary}` : 'not run'}`,
    `- **SBOM:** ${sbom ? `CycloneDX 1.6 and SPDX 3.0.1, ${sbom['files']} files, ${sbom['dependencies']} dependencies` : 'not built'}`,
    '',
    '| step | result | time | detail |',
    '| --- | --- | --- | --- |',
    ...result.steps.map((s) => `| ${s.step} | ${ICON[s.status]} ${s.status} | ${s.seconds.toFixed(2)} s | ${s.summary.replace(/\|/g, '\\|')} |`),
  ];
  const failed = result.steps.find((s) => s.status === 'failed');
  if (failed?.fix?.length) lines.push('', '**To fix:**', ...failed.fix.map((f) => `- ${f}`));
  return lines.join('\n') + '\n';
}

/** One output, in the multi-line form GITHUB_OUTPUT reads, with a delimiter the value cannot hold. */
function setOutput(name: string, value: string, env: Env): void {
  if (!env['GITHUB_OUTPUT']) return;
  const delimiter = `ghadelimiter_${randomUUID()}`;
  appendFileSync(env['GITHUB_OUTPUT'], `${name}<<${delimiter}\n${value}\n${delimiter}\n`);
}

/** Text with the key's lines replaced, for anything printed while a key given as text is in play. */
function redactor(keyText: string | undefined): (text: string) => string {
  if (!keyText) return (t) => t;
  const secrets = keyText.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length >= 8 && !l.startsWith('-----'));
  return (text) => secrets.reduce((t, s) => t.split(s).join('***'), text.split(keyText).join('***'));
}

interface TraceLinkRecord { name: string; status: string; summary: string; code?: string; exitCode: number; details: string[] }
interface TraceRecord { ok: boolean; brokenLink?: string; exitCode: number; storageUri: string; digest?: string; links: TraceLinkRecord[]; error?: { code: string; message: string } }

const LINK_ICON: Record<string, string> = { ok: '✅', skipped: '⏭️' };

/** The job summary of a trace: the verdict, the digest, and one row per link. */
export function traceSummaryMarkdown(result: TraceRecord): string {
  const broken = result.links.find((l) => l.name === result.brokenLink);
  return [
    `## modelship trace: ${result.storageUri} ${result.ok ? 'complete' : `broken at ${result.brokenLink}`}`,
    '',
    `- **Digest:** \`${result.digest ?? 'not read'}\``,
    ...(broken ? [`- **Broken:** ${broken.name} (${broken.code ?? broken.status}, exit ${broken.exitCode})`] : []),
    '',
    '| link | result | detail |',
    '| --- | --- | --- |',
    ...result.links.map((l) => `| ${l.name} | ${LINK_ICON[l.status] ?? '❌'} ${l.status} | ${l.summary.replace(/\|/g, '\\|')} |`),
  ].join('\n') + '\n';
}

export function run(env: Env = process.env): number {
  if (input('trace', env)) return runTraceStep(env);
  let plan: ShipPlan;
  let keyDir: string | undefined;
  try {
    plan = shipPlan(env);
    if (plan.keyText) {
      // Tell the runner to mask each line of the key, then hand it to modelship as a private file.
      for (const line of plan.keyText.split(/\r?\n/)) if (line.trim() && !line.startsWith('-----')) console.log(`::add-mask::${escapeData(line.trim())}`);
      keyDir = mkdtempSync(path.join(env['RUNNER_TEMP'] || tmpdir(), 'modelship-key-'));
      const keyFile = path.join(keyDir, 'signing.key');
      writeFileSync(keyFile, plan.keyText, { mode: 0o600 });
      plan = shipPlan(env, keyFile);
    }
  } catch (err) {
    if (!(err instanceof ActionInputError)) throw err;
    console.log(errorCommand(err.message, 'modelship'));
    return 2;
  }
  try {
    return runShip(plan, env);
  } finally {
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  }
}

/**
 * Runs modelship with `argv` and reads the JSON record it prints. A number is the step's exit
 * status when there is no record to read (modelship could not start, or printed none), or when
 * the record is an error, which is reported here; `redact` is applied to all it echoes.
 */
function runForRecord<T extends { error?: { code: string; message: string } }>(argv: string[], env: Env, title: string, redact: (text: string) => string = (t) => t): { status: number | null; record: T } | number {
  const bin = (env['MODELSHIP_BIN'] || 'modelship').split(' ');
  const done = spawnSync(bin[0]!, [...bin.slice(1), ...argv], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  if (done.stderr) process.stderr.write(redact(done.stderr));
  if (done.error) {
    console.log(errorCommand(`cannot run modelship (${done.error.message}): add the actions/setup step before this one`, 'modelship'));
    return 1;
  }
  let record: T;
  try {
    record = JSON.parse(done.stdout) as T;
  } catch {
    process.stdout.write(redact(done.stdout));
    console.log(errorCommand(`${title} exited with status ${done.status} before printing its record`, title));
    return done.status || 1;
  }
  if (record.error) {
    console.log(errorCommand(redact(`${record.error.code}: ${record.error.message}`), title));
    return done.status || 1;
  }
  return { status: done.status, record };
}

/**
 * `modelship trace` for the input "trace": the links in the log and the job summary, the digest and the
 * broken link as outputs, and the step failing with the first broken link's exit status and reason.
 */
function runTraceStep(env: Env): number {
  let argv: string[];
  try {
    argv = tracePlan(env);
  } catch (err) {
    if (!(err instanceof ActionInputError)) throw err;
    console.log(errorCommand(err.message, 'modelship'));
    return 2;
  }
  const ran = runForRecord<TraceRecord>(argv, env, 'modelship trace');
  if (typeof ran === 'number') return ran;
  const { status, record: result } = ran;
  for (const l of result.links) console.log(`${l.status.padEnd(11)} ${l.name.padEnd(15)} ${l.summary}`);
  if (env['GITHUB_STEP_SUMMARY']) appendFileSync(env['GITHUB_STEP_SUMMARY'], traceSummaryMarkdown(result));
  setOutput('digest', result.digest ?? '', env);
  setOutput('broken-link', result.brokenLink ?? '', env);
  const broken = result.links.find((l) => l.name === result.brokenLink);
  if (broken) console.log(errorCommand(`${broken.code ?? broken.status}: ${broken.summary}`, `modelship trace ${broken.name}`));
  // Fail closed: a record that says broken never passes the step, whatever the exit status said.
  return status || (result.ok ? 0 : result.exitCode || 1);
}

function runShip(plan: ShipPlan, env: Env): number {
  const redact = redactor(plan.keyText);
  // The key went in as a file: its text stays out of modelship's environment.
  const childEnv: Env = { ...env, MODELSHIP_BUILDER: env['MODELSHIP_BUILDER'] || 'github-actions' };
  if (plan.keyText) delete childEnv['MODELSHIP_SIGNING_KEY'];
  const ran = runForRecord<PipelineRecord>(plan.argv, childEnv, 'modelship', redact);
  if (typeof ran === 'number') return ran;
  const { status, record: result } = ran;
  for (const s of result.steps) console.log(redact(`${s.status.padEnd(7)} ${s.step.padEnd(8)} ${s.seconds.toFixed(2)}s  ${s.summary}`));
  if (env['GITHUB_STEP_SUMMARY']) appendFileSync(env['GITHUB_STEP_SUMMARY'], redact(summaryMarkdown(result)));
  setOutput('digest', result.digest ?? '', env);
  setOutput('reference', result.reference, env);
  setOutput('mof-class', String(result.steps.find((s) => s.step === 'mof')?.data?.['class'] ?? ''), env);
  const failed = result.steps.find((s) => s.status === 'failed');
  if (failed) console.log(errorCommand(redact([failed.summary, ...(failed.fix ?? []).map((f) => `- ${f}`)].join('\n')), `modelship ${failed.step}`));
  return status ?? 1;
}
