/**
 * modules/pipeline: the steps of the inner loop as plain functions over one context, and the one
 * definition of their order. Every door (CLI, git hook, Dagger, GitHub Actions) runs this.
 */
export { STEP_NAMES, LOCAL_STEPS, isStepName } from './steps.js';
export type { StepName, StepOutcome, StepStatus } from './steps.js';
export { createPipelineContext } from './context.js';
export type { PipelineContext, PipelineInput, PipelineSigning } from './context.js';
export { runPipeline } from './run.js';
export type { PipelineResult, RunPipelineOptions } from './run.js';
export { STEP_RUNNERS } from './step-runners.js';
export type { StepRunner, StepResult } from './step-runners.js';
export { handoffStep } from './handoff-step.js';
export type { HandoffTarget } from './handoff-step.js';
export { runQuickstart, LOCAL_CLUSTER_REGISTRY, QUICKSTART_GITOPS_URL } from './quickstart.js';
export type { QuickstartOptions, QuickstartResult, QuickstartStep } from './quickstart.js';
export { withClusterPolicy } from './cluster-policy-step.js';
export type { ClusterPolicyStepInput } from './cluster-policy-step.js';
