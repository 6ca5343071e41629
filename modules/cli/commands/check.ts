/**
 * `modelship check [DIR]`: the pipeline's local part (pack, SBOM, cards, MOF gate, sign, verify),
 * one line per step, exactly what the pre-push hook, Dagger and CI run.
 */
import path from 'node:path';
import { UsageError } from '../../errors/index.js';
import { LOCAL_STEPS, runPipeline, STEP_RUNNERS, withClusterPolicy } from '../../pipeline/index.js';
import { clusterPolicyGateOf, CLUSTER_POLICY_HELP, CLUSTER_POLICY_OPTIONS } from '../plumbing/cluster-policy.js';
import type { Command } from '../command.js';
import { PIPELINE_OPTIONS, PIPELINE_OPTIONS_HELP, pipelineContextOf, pipelineExitCode, pipelineText } from '../plumbing/pipeline.js';

export const command = {
  name: 'check',
  summary: 'Run the local pipeline on a project: pack, SBOM, cards, MOF gate, sign, verify',
  usage: 'check [DIR] [-t REF] [--key KEY.pem | --keyless] [--require 1|2|3] [--policy GITOPS_DIR|FILE [--env ENV]] [--json]',
  help: `Runs the steps every door runs (the pre-push hook, "dagger call ci", the GitHub Action), up to
verification, on the project in DIR (default: the current folder):

  pack     the ModelPack artifact, into the local store
  sbom     CycloneDX 1.6 and SPDX 3.0.1 SBOMs, attached
  card     model and data cards, attached
  mof      the Model Openness class, attached; gated on pipeline.mof.require (or --require)
  sign     OpenSSF model signature and cosign image signature of the local copy
  verify   the signatures, against the manifest as stored

Prints one line per step with its time and stops at the first failure with what to fix. Exit
status: 0 when every step passed or was skipped, else the failed step's (9: MOF gate, 8: signature).
Without a signing key, signing is skipped and said so (nothing leaves the machine); "modelship
ship" refuses to push unsigned unless --no-sign says so; CI signs keylessly.

With --policy, verify also judges the signed local copy as the cluster's admission policy will
once it is pushed under -t HOST/REPO:TAG, and fails with the controller's reason if it would refuse.

Options:
${PIPELINE_OPTIONS_HELP}
${CLUSTER_POLICY_HELP}

Examples:
  modelship check
  modelship check ./my-model --key signing.key --require 3
  modelship check -t ghcr.io/acme/tiny-chat:v2 --key signing.key --policy ../gitops --env prod
  modelship check --json`,
  options: { ...PIPELINE_OPTIONS, ...CLUSTER_POLICY_OPTIONS },
  async run(ctx) {
    if (ctx.args.length > 1) throw new UsageError(`check takes one project folder, got ${ctx.args.length}.\nUsage: modelship ${command.usage}`);
    const pipeline = await pipelineContextOf(ctx, path.resolve(ctx.cwd, ctx.args[0] ?? '.'));
    const gate = await clusterPolicyGateOf(ctx);
    const result = await runPipeline(pipeline, { steps: LOCAL_STEPS, ...(gate ? { runners: { verify: withClusterPolicy(STEP_RUNNERS.verify, gate) } } : {}) });
    const exitCode = pipelineExitCode(result);
    return { json: result, text: pipelineText(result), ...(exitCode ? { exitCode } : {}) };
  },
} satisfies Command;
