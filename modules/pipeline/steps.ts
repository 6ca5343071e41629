/**
 * The pipeline's order, in one place: every door (CLI, hook, Dagger, Actions) runs these steps in
 * this order, so they stay identical by construction.
 */
export const STEP_NAMES = ['pack', 'sbom', 'card', 'mof', 'sign', 'verify', 'push', 'handoff'] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** What `modelship check` runs: everything that needs no registry, cluster or network. */
export const LOCAL_STEPS: readonly StepName[] = ['pack', 'sbom', 'card', 'mof', 'sign', 'verify'];

export type StepStatus = 'passed' | 'failed' | 'skipped';

export interface StepOutcome {
  step: StepName;
  status: StepStatus;
  /** Wall time of the step in seconds (3 decimals). */
  seconds: number;
  /** One line for people: what was done, or why it was skipped or failed. */
  summary: string;
  /** For a failure: what to change, one line each. */
  fix?: string[];
  /** Machine-readable facts of the step (digests, counts, class). */
  data?: Record<string, unknown>;
}

export function isStepName(value: string): value is StepName {
  return (STEP_NAMES as readonly string[]).includes(value);
}
