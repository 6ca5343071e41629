// The pipeline action's entry: runs "modelship ship" with the action's inputs, then writes the job
// summary and outputs from its JSON record. Node built-ins only, so it needs no bundling.
import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';

/** An input as the runner passes it: INPUT_<NAME>, name upper-cased, spaces as underscores. */
export function input(name, env = process.env) {
  return (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}

/** The modelship command line for these inputs. */
export function shipArgs(env = process.env) {
  const args = ['ship', input('project', env) || '.', '--json'];
  const reference = input('reference', env);
  if (reference) args.push('-t', reference);
  const signing = input('signing', env) || 'keyless';
  if (!['keyless', 'key', 'none'].includes(signing)) throw new Error(`input "signing" must be keyless, key or none, not "${signing}"`);
  if (signing === 'keyless') args.push('--keyless');
  const require = input('require', env);
  if (require) args.push('--require', require);
  const gitops = input('gitops', env);
  if (gitops) {
    args.push('--gitops', gitops, '--flavor', input('flavor', env) || 'flux');
    if (input('pull-request', env) === 'true') args.push('--pr');
  } else {
    args.push('--no-handoff');
  }
  if (input('plain-http', env) === 'true') args.push('--plain-http');
  return args;
}

const ICON = { passed: '✅', failed: '❌', skipped: '⏭️' };
const ROMAN = ['unclassified', 'Class I', 'Class II', 'Class III'];

/** The job summary: MOF badge, digest, signature and SBOM counts, and one row per step. */
export function summaryMarkdown(result) {
  const step = (name) => result.steps.find((s) => s.step === name);
  const mof = step('mof')?.data;
  const sbom = step('sbom')?.data;
  const sign = step('sign');
  const badge = mof ? `![MOF ${ROMAN[mof.class] ?? mof.class}](https://img.shields.io/badge/MOF-${encodeURIComponent((ROMAN[mof.class] ?? String(mof.class)).replace(/ /g, '_'))}-${mof.class ? 'brightgreen' : 'lightgrey'})` : '';
  const lines = [
    `## modelship: ${result.reference} ${result.ok ? 'shipped' : `failed at ${result.failed}`}`,
    '',
    badge,
    '',
    `- **Digest:** \`${result.digest ?? 'not packed'}\``,
    `- **MOF:** ${mof ? `${mof.label}${mof.require ? ` (required: ${ROMAN[mof.require]})` : ''}` : 'not evaluated'}`,
    `- **Signature:** ${sign ? `${sign.status}: ${sign.summary}` : 'not run'}`,
    `- **SBOM:** ${sbom ? `CycloneDX 1.6 and SPDX 3.0.1, ${sbom.files} files, ${sbom.dependencies} dependencies` : 'not built'}`,
    '',
    '| step | result | time | detail |',
    '| --- | --- | --- | --- |',
    ...result.steps.map((s) => `| ${s.step} | ${ICON[s.status]} ${s.status} | ${s.seconds.toFixed(2)} s | ${s.summary.replace(/\|/g, '\\|')} |`),
  ];
  const failed = result.steps.find((s) => s.status === 'failed');
  if (failed?.fix?.length) lines.push('', '**To fix:**', ...failed.fix.map((f) => `- ${f}`));
  return lines.join('\n') + '\n';
}

function setOutput(name, value, env) {
  if (env.GITHUB_OUTPUT) appendFileSync(env.GITHUB_OUTPUT, `${name}=${value}\n`);
}

export function run(env = process.env) {
  const bin = (env.MODELSHIP_BIN || 'modelship').split(' ');
  const done = spawnSync(bin[0], [...bin.slice(1), ...shipArgs(env)], { env: { ...env, MODELSHIP_BUILDER: env.MODELSHIP_BUILDER || 'github-actions' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  if (done.error) {
    console.log(`::error::cannot run modelship (${done.error.message}): add the actions/setup step before this one`);
    return 1;
  }
  let result;
  try {
    result = JSON.parse(done.stdout);
  } catch {
    process.stdout.write(done.stdout);
    console.log(`::error::modelship exited with status ${done.status} before printing its record`);
    return done.status || 1;
  }
  if (result.error) {
    console.log(`::error::${result.error.code}: ${result.error.message}`);
    return done.status || 1;
  }
  for (const s of result.steps) console.log(`${s.status.padEnd(7)} ${s.step.padEnd(8)} ${s.seconds.toFixed(2)}s  ${s.summary}`);
  if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, summaryMarkdown(result));
  setOutput('digest', result.digest ?? '', env);
  setOutput('reference', result.reference, env);
  setOutput('mof-class', String(result.steps.find((s) => s.step === 'mof')?.data?.class ?? ''), env);
  const failed = result.steps.find((s) => s.status === 'failed');
  if (failed) console.log(`::error title=modelship ${failed.step}::${failed.summary}`);
  return done.status ?? 1;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = run();
