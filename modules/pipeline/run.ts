/**
 * Runs the steps in their one order over one context, timing each and stopping at the first
 * failure. A step never prints: it returns an outcome, and the door decides how to show it.
 */
import { isModelshipError, describeError } from '../errors/index.js';
import { STEP_NAMES, type StepName, type StepOutcome } from './steps.js';
import type { PipelineContext } from './context.js';
import { STEP_RUNNERS, type StepResult, type StepRunner } from './step-runners.js';

export interface RunPipelineOptions {
  /** Run only these steps (in pipeline order); default all. */
  steps?: readonly StepName[];
  /** Replace a step's runner, e.g. hand-off wired by the door with its GitOps target. */
  runners?: Partial<Record<StepName, StepRunner>>;
  /** Wall clock, injectable for tests. */
  now?: () => number;
}

export interface PipelineResult {
  ok: boolean;
  reference: string;
  /** The packed manifest (or ModelCar index) digest, once pack ran. */
  digest?: string;
  steps: StepOutcome[];
  /** The first failed step, if any; the steps after it did not run. */
  failed?: StepName;
  seconds: number;
}

export async function runPipeline(ctx: PipelineContext, opts: RunPipelineOptions = {}): Promise<PipelineResult> {
  const now = opts.now ?? (() => performance.now());
  const wanted = new Set(opts.steps ?? STEP_NAMES);
  const started = now();
  const outcomes: StepOutcome[] = [];
  for (const step of STEP_NAMES) {
    if (!wanted.has(step)) continue;
    const runner = opts.runners?.[step] ?? STEP_RUNNERS[step];
    const t0 = now();
    ctx.reporter.note(`${step}…`);
    const result = await runOne(runner, ctx);
    const outcome: StepOutcome = { step, ...result, seconds: round((now() - t0) / 1000) };
    ctx.results[step] = outcome;
    outcomes.push(outcome);
    if (outcome.status === 'failed') break;
  }
  const failed = outcomes.find((o) => o.status === 'failed')?.step;
  const digest = ctx.results.pack?.data?.['digest'];
  return {
    ok: !failed,
    reference: ctx.reference,
    ...(typeof digest === 'string' ? { digest } : {}),
    steps: outcomes,
    ...(failed ? { failed } : {}),
    seconds: round((now() - started) / 1000),
  };
}

/** A user error becomes the step's failure with its message; a bug still throws. */
async function runOne(runner: StepRunner, ctx: PipelineContext): Promise<StepResult> {
  try {
    return await runner(ctx);
  } catch (err) {
    if (!isModelshipError(err)) throw err;
    return { status: 'failed', summary: describeError(err), data: { code: err.code } };
  }
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
