/**
 * `modelship quickstart [DIR]`: idea to inference to hand-off, offline, with each step's time.
 */
import path from 'node:path';
import { UsageError } from '../../errors/index.js';
import { QUICKSTART_GITOPS_URL, runQuickstart, type QuickstartResult } from '../../pipeline/index.js';
import { openStore } from '../../store/index.js';
import { flagBoolean, flagString, type Command } from '../command.js';
import { MODELCAR_OPTIONS, resolveModelCarBase } from '../plumbing/modelcar-base.js';

const MARK = { passed: 'ok  ', failed: 'FAIL', skipped: 'skip' } as const;

function render(r: QuickstartResult): string {
  const lines = r.steps.map((s) => `${MARK[s.status]} ${s.step.padEnd(8)} ${s.seconds.toFixed(2).padStart(6)}s  ${s.summary}`);
  if (r.ideaToInferenceSeconds !== undefined) lines.push('', `idea to inference: ${r.ideaToInferenceSeconds.toFixed(1)} s; total with hand-off: ${r.seconds.toFixed(1)} s`);
  lines.push(r.ok
    ? `Everything is in ${r.dir}: the project (tiny-chat/), the store (home/), the GitOps repository (gitops.git) and the model registry (home/).`
    : `stopped: see the FAIL line above (everything so far is in ${r.dir})`);
  return lines.join('\n');
}

export const command: Command = {
  name: 'quickstart',
  summary: 'The whole inner loop offline: project, pipeline, serve and ask, hand-off and registration, timed',
  usage: 'quickstart [DIR] [--registry HOST[:PORT]] [--plain-http] [--modelcar-base REF | --modelcar] [--gitops-url URL] [--json]',
  help: `Runs every step of the inner loop with no registry, cluster or network, in DIR (a new or empty
folder; default .quickstart):

  project   a chat project from the template: a real tiny GGUF model with its cards and report
  key       a development signing key pair (unencrypted, for this machine only)
  pack … verify   the pipeline: ModelPack artifact, CycloneDX and SPDX SBOMs, cards, the MOF
            Class III gate, OpenSSF model signature and cosign image signature, verified
  serve, chat     the packed model behind an OpenAI-compatible API, asked one question
  base      the ModelCar base: KServe starts only a ModelCar (a runnable image with the model
            under /models), so the model is packed as one too. By default the base is built
            here, offline, from this machine's static busybox (Debian: busybox-static), for this
            machine's platform only; its layer is pushed with the model, so the cluster pulls it
            from the same registry. --modelcar-base REF takes a base you name instead (a registry,
            the store, or oci:PATH:TAG; a multi-platform one gives linux/amd64 and linux/arm64),
            --modelcar alone Docker Hub's busybox pinned by digest. Without a static busybox
            and without a base, the hand-off is skipped, saying so and why
  handoff   KServe, Argo CD and Kyverno manifests for the ModelCar committed to a local GitOps
            repository (DIR/gitops.git), the version registered in the embedded model registry.
            The Application clones --gitops-url URL (default ${QUICKSTART_GITOPS_URL}): push
            DIR/gitops.git there

Prints each step with its time, the idea-to-inference time and the total; --json gives the same as
data, with the model's answer. Without --registry the manifests name localhost:5000, the registry
kind and k3d development clusters use; with --registry HOST[:PORT] the artifact is pushed there
and the manifests pin what that registry serves.

Examples:
  modelship quickstart
  modelship quickstart /tmp/try --json
  modelship quickstart --registry 127.0.0.1:5000 --plain-http
  modelship quickstart --modelcar-base oci:./busybox:latest`,
  options: {
    registry: { type: 'string' },
    'plain-http': { type: 'boolean' },
    threads: { type: 'string' },
    'gitops-url': { type: 'string' },
    ...MODELCAR_OPTIONS,
  },
  async run(ctx) {
    if (ctx.args.length > 1) throw new UsageError(`quickstart takes one folder, got ${ctx.args.length}.\nUsage: modelship ${command.usage}`);
    const threads = flagString(ctx, 'threads');
    if (threads !== undefined && !/^[1-9]\d?$/.test(threads)) throw new UsageError(`--threads takes a whole number from 1 to 99, not "${threads}"`);
    const registry = flagString(ctx, 'registry');
    // A base named (or --modelcar: Docker Hub's); without either the quickstart builds one from the machine's busybox.
    const named = flagString(ctx, 'modelcar-base');
    const modelcar = named || flagBoolean(ctx, 'modelcar') ? await resolveModelCarBase(ctx, openStore(ctx.env, ctx.cwd), named) : undefined;
    const result = await runQuickstart({
      dir: path.resolve(ctx.cwd, ctx.args[0] ?? '.quickstart'),
      env: ctx.env,
      cwd: ctx.cwd,
      reporter: ctx.reporter,
      ...(registry ? { registry } : {}),
      ...(flagBoolean(ctx, 'plain-http') ? { plainHttp: true } : {}),
      ...(threads ? { threads: Number(threads) } : {}),
      ...(modelcar ? { modelcar } : {}),
      ...(flagString(ctx, 'gitops-url') ? { gitopsUrl: flagString(ctx, 'gitops-url')! } : {}),
    });
    return { json: result, text: render(result), ...(result.ok ? {} : { exitCode: 1 }) };
  },
};
