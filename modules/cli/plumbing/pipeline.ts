/**
 * Command plumbing shared by the pipeline's doors in the CLI (`check`, `quickstart`): the flags
 * that build a pipeline context, and one way to print its outcome.
 */
import { EXIT_STATUS, familyOf, ModelshipError, UsageError } from '../../errors/index.js';
import { createPipelineContext, handoffStep, type PipelineContext, type PipelineResult, type StepOutcome, type StepRunner } from '../../pipeline/index.js';
import { flagBoolean, flagString, type CommandContext, type OptionSpec } from '../command.js';
import { parseRequire } from './documents.js';
import { MODELCAR_OPTIONS, modelCarBase } from './modelcar-base.js';
import { REGISTRY_OPTIONS } from './registry-flags.js';
import { openStore } from '../../store/index.js';

export const PIPELINE_OPTIONS = {
  tag: { type: 'string', short: 't' },
  key: { type: 'string' },
  keyless: { type: 'boolean' },
  'no-sign': { type: 'boolean' },
  require: { type: 'string' },
  ...MODELCAR_OPTIONS,
  ...REGISTRY_OPTIONS,
} satisfies OptionSpec;

export const PIPELINE_OPTIONS_HELP = `  -t, --tag REF        store reference to pack to (default NAME:VERSION from the spec, under
                       pipeline.registry when set)
  --key KEY.pem        sign with this key (default pipeline.signing.key or MODELSHIP_SIGNING_KEY;
                       an encrypted key's password comes from MODELSHIP_KEY_PASSWORD)
  --keyless            sign keylessly (Sigstore; OIDC token from SIGSTORE_ID_TOKEN or GitHub Actions)
  --no-sign            do not sign, even with a key or an OIDC token at hand
  --require 1|2|3      the MOF class to reach (default pipeline.mof.require)
  --modelcar [--modelcar-base REF]   also pack the runnable ModelCar image KServe starts (the
                       hand-off needs it); the base defaults to docker.io/library/busybox:1.37
  --plain-http, --ca-file PEM   how to reach the registry`;

export async function pipelineContextOf(ctx: CommandContext, projectDir: string): Promise<PipelineContext> {
  const require = parseRequire(flagString(ctx, 'require'), undefined);
  const tag = flagString(ctx, 'tag');
  const key = flagString(ctx, 'key');
  const caFile = flagString(ctx, 'ca-file');
  const modelcar = await modelCarBase(ctx, openStore(ctx.env, ctx.cwd));
  return createPipelineContext({
    projectDir,
    cwd: ctx.cwd,
    env: ctx.env,
    reporter: ctx.reporter,
    plainHttp: flagBoolean(ctx, 'plain-http'),
    keyless: flagBoolean(ctx, 'keyless'),
    ...(flagBoolean(ctx, 'no-sign') ? { sign: false } : {}),
    ...(tag ? { reference: tag } : {}),
    ...(key ? { signingKey: key } : {}),
    ...(caFile ? { caFile } : {}),
    ...(require ? { mofRequire: require } : {}),
    ...(modelcar ? { modelcar } : {}),
  });
}

/**
 * A pipeline that pushes signs what it pushes: with nothing to sign with, it stops before the first
 * step, naming what is missing. --no-sign is the only way to push unsigned.
 */
export function requireSignerToPush(pipeline: PipelineContext): void {
  if (!pipeline.pushTo || pipeline.signing.kind !== 'none' || pipeline.signing.declined) return;
  throw new ModelshipError('SIGN_KEY_MISSING', `refusing to push ${pipeline.pushTo} unsigned: ${pipeline.signing.reason}; or pass --no-sign to push it unsigned`);
}

const MARK: Record<StepOutcome['status'], string> = { passed: 'ok  ', failed: 'FAIL', skipped: 'skip' };

/** One line per step with its time, then what to fix. */
export function pipelineText(result: PipelineResult): string {
  const lines = result.steps.map((s) => `${MARK[s.status]} ${s.step.padEnd(8)} ${s.seconds.toFixed(2).padStart(6)}s  ${s.summary}`);
  const failed = result.steps.find((s) => s.status === 'failed');
  if (failed?.fix?.length) lines.push('', 'To fix:', ...failed.fix.map((f) => `  - ${f}`));
  lines.push(result.ok ? `passed in ${result.seconds.toFixed(2)}s: ${result.reference}${result.digest ? ` ${result.digest}` : ''}` : `failed at ${result.failed} after ${result.seconds.toFixed(2)}s`);
  return lines.join('\n');
}

/** The exit status of a failed pipeline is the failed step's error family (gate 9, verification 8, ...). */
export function pipelineExitCode(result: PipelineResult): number {
  const failed = result.steps.find((s) => s.status === 'failed');
  if (!failed) return EXIT_STATUS.ok;
  const code = failed.data?.['code'];
  return typeof code === 'string' ? EXIT_STATUS[familyOf(code)] : EXIT_STATUS.failure;
}

/** Flags of the hand-off step, for the doors that run it. */
export const HANDOFF_OPTIONS = {
  gitops: { type: 'string' },
  flavor: { type: 'string' },
  pr: { type: 'boolean' },
  'cluster-url': { type: 'string' },
} satisfies OptionSpec;

/** The hand-off step for a door's flags; undefined leaves the pipeline's own (skipped without a GitOps target). */
export function handoffRunnerOf(ctx: CommandContext, pipeline: PipelineContext): StepRunner | undefined {
  const flavor = flagString(ctx, 'flavor');
  if (flavor !== undefined && flavor !== 'flux' && flavor !== 'argocd') throw new UsageError(`--flavor takes flux or argocd, not "${flavor}"`);
  const repository = flagString(ctx, 'gitops') ?? pipeline.spec.pipeline.gitops?.repository;
  if (!repository) return undefined;
  const clusterUrl = flagString(ctx, 'cluster-url');
  return handoffStep({ repository, ...(flavor ? { delivery: flavor } : {}), ...(clusterUrl ? { clusterUrl } : {}), pullRequest: flagBoolean(ctx, 'pr') });
}
