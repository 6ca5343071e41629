/**
 * `modelship ship [DIR]`: the whole pipeline, as CI and "dagger call ci" run it: pack, SBOM, cards,
 * MOF gate, sign, verify, push, hand-off.
 */
import path from 'node:path';
import { UsageError } from '../../errors/index.js';
import { runPipeline, STEP_NAMES, STEP_RUNNERS, withClusterPolicy } from '../../pipeline/index.js';
import { clusterPolicyGateOf, CLUSTER_POLICY_HELP, CLUSTER_POLICY_OPTIONS } from '../plumbing/cluster-policy.js';
import { flagBoolean, type Command } from '../command.js';
import { handoffRunnerOf, requireSignerToPush, HANDOFF_OPTIONS, PIPELINE_OPTIONS, PIPELINE_OPTIONS_HELP, pipelineContextOf, pipelineExitCode, pipelineText } from '../plumbing/pipeline.js';

export const command = {
  name: 'ship',
  summary: 'Run the whole pipeline: pack, SBOM, cards, MOF gate, sign, verify, push, hand-off',
  usage: 'ship [DIR] -t HOST/REPO:TAG [--key KEY.pem | --keyless] [--gitops DIR|URL [--pr] | --no-handoff] [--policy GITOPS_DIR|FILE [--env ENV]] [--json]',
  help: `Runs every step of the pipeline on the project in DIR (default: the current folder), in the
order every door uses: pack, sbom, card, mof (gated on pipeline.mof.require or --require), sign,
verify, push (to -t HOST/REPO:TAG, or pipeline.registry), and hand-off (KServe, Flux or Argo CD
manifests committed to the GitOps repository, and the version registered). One line per step;
--json gives the same record as data, with each step's time. With nothing to sign with (no key,
no OIDC token) it refuses before the first step and names what is missing: it never pushes an
unsigned artifact unless --no-sign says so.

"modelship check" is the same pipeline up to verify, with nothing leaving the machine.

Options:
${PIPELINE_OPTIONS_HELP}
  --gitops DIR|URL     the GitOps repository to hand off to (default pipeline.gitops.repository)
  --flavor flux|argocd, --pr    how to hand off (see "modelship handoff --help")
  --cluster-url URL    the URL the cluster clones (https or ssh), when --gitops is a local path
  --no-handoff         stop after push
${CLUSTER_POLICY_HELP}
                       (judged at verify, on the signed copy under -t, so a refusal stops before push)

Examples:
  modelship ship -t ghcr.io/acme/tiny-chat:v1 --keyless --gitops https://github.com/acme/gitops --pr
  modelship ship ./model -t 127.0.0.1:5000/models/tiny:v1 --plain-http --key signing.key --no-handoff
  modelship ship -t ghcr.io/acme/tiny-chat:v2 --key signing.key --gitops ../gitops --policy ../gitops --env dev`,
  options: { ...PIPELINE_OPTIONS, ...HANDOFF_OPTIONS, ...CLUSTER_POLICY_OPTIONS, 'no-handoff': { type: 'boolean' } },
  async run(ctx) {
    if (ctx.args.length > 1) throw new UsageError(`ship takes one project folder, got ${ctx.args.length}.\nUsage: modelship ${command.usage}`);
    const pipeline = await pipelineContextOf(ctx, path.resolve(ctx.cwd, ctx.args[0] ?? '.'));
    const noHandoff = flagBoolean(ctx, 'no-handoff');
    requireSignerToPush(pipeline);
    const steps = noHandoff ? STEP_NAMES.filter((s) => s !== 'handoff') : STEP_NAMES;
    const handoff = noHandoff ? undefined : handoffRunnerOf(ctx, pipeline);
    const gate = await clusterPolicyGateOf(ctx);
    const verify = gate ? withClusterPolicy(STEP_RUNNERS.verify, gate) : undefined;
    const result = await runPipeline(pipeline, { steps, runners: { ...(handoff ? { handoff } : {}), ...(verify ? { verify } : {}) } });
    const exitCode = pipelineExitCode(result);
    return { json: result, text: pipelineText(result), ...(exitCode ? { exitCode } : {}) };
  },
} satisfies Command;
