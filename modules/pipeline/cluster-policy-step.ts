/**
 * The pipeline's verify step under the cluster's admission policy (`check|ship --policy`): after
 * the signatures verify, the local copy is judged as the cluster will judge it once pushed, under
 * the name it is pushed to, so a refusal stops the pipeline before the push.
 */
import { evaluateClusterPolicy, mofVerdict, type ClusterPolicySet } from '../gitops/index.js';
import { parseRemoteReference } from '../oci/reference.js';
import type { PipelineContext } from './context.js';
import type { StepResult, StepRunner } from './step-runners.js';

export interface ClusterPolicyStepInput {
  policy: ClusterPolicySet;
  trustedRoot?: unknown;
}

export function withClusterPolicy(verify: StepRunner, gate: ClusterPolicyStepInput): StepRunner {
  return async (ctx: PipelineContext): Promise<StepResult> => {
    const verified = await verify(ctx);
    if (verified.status === 'failed') return verified;
    const name = ctx.pushTo ?? ctx.reference;
    const ref = parseRemoteReference(name);
    if (!ref.registry || !/[.:]|^localhost$/.test(ref.registry)) {
      return {
        status: 'failed',
        summary: `${name} names no registry, so no cluster pulls it and no admission policy checks it: pack to the HOST/REPO:TAG the policy names (-t) (POLICY_NOT_COVERED)`,
        data: { ...verified.data, code: 'POLICY_NOT_COVERED' },
      };
    }
    const target = ctx.store.layout;
    const digest = (await target.resolve(ctx.reference)).digest;
    const verdict = await evaluateClusterPolicy({
      target, digest, repository: `${ref.registry}/${ref.repository}`,
      ...(gate.trustedRoot !== undefined ? { trustedRoot: gate.trustedRoot } : {}),
      mof: (require) => mofVerdict(target, digest, ctx.reference, require),
    }, gate.policy);
    const data = { ...verified.data, policy: verdict };
    if (!verdict.ok) return { status: 'failed', summary: `the cluster's policy would refuse it: ${verdict.reason} (${verdict.code})`, data: { ...data, code: verdict.code } };
    const names = verdict.rules.map((r) => r.policy).join(', ');
    return { status: 'passed', summary: `${verified.status === 'passed' ? `${verified.summary}; ` : ''}the cluster's policy ${names} admits ${verdict.image}`, data };
  };
}
