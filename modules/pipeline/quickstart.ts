/**
 * The whole inner loop offline, from nothing: a chat project from the template (a real tiny GGUF
 * model), a development key, the pipeline (pack, SBOMs, cards, MOF Class III gate, sign, verify,
 * push when a registry is given), serving the packed model and asking it once, then the hand-off to
 * a local GitOps repository with the version registered in the embedded model registry. The model is
 * also packed as a ModelCar (what KServe starts), on a base built from the machine's static busybox
 * unless one is given.
 */
import { execFile } from 'node:child_process';
import { mkdir, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { isModelshipError, ModelshipError } from '../errors/index.js';
import { createFromTemplate } from '../example/template.js';
import { formatPlatform } from '../oci/platform.js';
import { hostBusyboxBase, parseUnpackFilter, unpack, type ModelCarBase } from '../modelpack/index.js';
import { silentReporter, type Reporter } from '../progress/index.js';
import { generateSigningKeyPair } from '../sign/index.js';
import { createPipelineContext } from './context.js';
import { handoffStep } from './handoff-step.js';
import { runPipeline } from './run.js';
import { LOCAL_STEPS, type StepName, type StepOutcome } from './steps.js';

export interface QuickstartOptions {
  /** A new or empty folder for everything the quickstart makes. */
  dir: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** A registry (HOST[:PORT][/NAMESPACE]) to push to; without one the artifact stays in the local store. */
  registry?: string;
  plainHttp?: boolean;
  /** Threads for inference; 1 keeps a 2-core machine responsive. */
  threads?: number;
  reporter?: Reporter;
  /** The chat request the served model answers. */
  question?: string;
  /** Changes the project after it is written and before the pipeline runs (add weights, edit the spec). */
  prepare?: (projectDir: string) => Promise<void>;
  /**
   * The ModelCar base (the runnable image KServe starts is built on it); default: one built here
   * from the machine's static busybox. Without either the hand-off is skipped, saying why: a plain
   * ModelPack artifact cannot start under KServe.
   */
  modelcar?: ModelCarBase;
  /** The static busybox the default base is built from (default HOST_BUSYBOX_PATH). */
  busybox?: string;
  /** The URL the cluster clones the GitOps repository from (default QUICKSTART_GITOPS_URL). */
  gitopsUrl?: string;
}

export interface QuickstartStep {
  step: 'project' | 'key' | 'base' | StepName | 'serve' | 'chat';
  status: StepOutcome['status'];
  seconds: number;
  summary: string;
  data?: Record<string, unknown>;
}

export interface QuickstartResult {
  ok: boolean;
  dir: string;
  reference: string;
  digest?: string;
  answer?: string;
  steps: QuickstartStep[];
  /** From the first step to the served model's first answer. */
  ideaToInferenceSeconds?: number;
  seconds: number;
}

/** Where the manifests say the cluster clones the GitOps repository, until it is pushed somewhere real (--gitops-url). */
export const QUICKSTART_GITOPS_URL = 'https://git.example.com/quickstart/gitops.git';

/** Without a registry the manifests name the registry kind and k3d clusters serve on localhost:5000. */
export const LOCAL_CLUSTER_REGISTRY = 'localhost:5000';

const seconds = (since: number) => Math.round(performance.now() - since) / 1000;

export async function runQuickstart(opts: QuickstartOptions): Promise<QuickstartResult> {
  const started = performance.now();
  const reporter = opts.reporter ?? silentReporter;
  const dir = path.resolve(opts.cwd, opts.dir);
  const env = { MODELSHIP_KEY_PASSWORD: '', ...opts.env, MODELSHIP_HOME: path.join(dir, 'home') };
  const steps: QuickstartStep[] = [];
  const timed = async <T>(step: QuickstartStep['step'], work: () => Promise<{ value: T; summary: string; data?: Record<string, unknown> }>): Promise<T> => {
    reporter.note(`${step}…`);
    const t0 = performance.now();
    const { value, summary, data } = await work();
    steps.push({ step, status: 'passed', seconds: seconds(t0), summary, ...(data ? { data } : {}) });
    return value;
  };

  const project = path.join(dir, 'tiny-chat');
  await timed('project', async () => {
    const created = await createFromTemplate('chat', project, { git: false });
    await opts.prepare?.(project);
    const commit = await commitProject(project);
    return { value: created, summary: `${project} from the chat template: ${created.files.length} files, MOF Class III required, commit ${commit.slice(0, 12)}` };
  });
  const keyFile = path.join(dir, 'signing.key');
  await timed('key', async () => {
    const pair = generateSigningKeyPair('p256');
    await writeFile(keyFile, pair.privateKeyPem, { mode: 0o600 });
    await writeFile(path.join(dir, 'signing.pub'), pair.publicKeyPem);
    return { value: undefined, summary: `development key pair ${keyFile} (ECDSA P-256, unencrypted: for this machine only)` };
  });

  const registry = (opts.registry ?? LOCAL_CLUSTER_REGISTRY).replace(/\/+$/, '');
  const reference = `${registry}/quickstart/tiny-chat:v1`;
  const ctx = await createPipelineContext({
    projectDir: project, reference, signingKey: keyFile, env, cwd: dir, reporter,
    ...(opts.registry ? {} : { push: false }),
    ...(opts.plainHttp ? { plainHttp: true } : {}),
  });
  // KServe starts only a ModelCar: build one on the base given, else on this machine's static busybox.
  const base = await modelCarBaseStep(ctx.store.layout, opts);
  steps.push(base.step);
  if (base.base) ctx.modelcar = base.base;
  const local = await runPipeline(ctx, { steps: opts.registry ? [...LOCAL_STEPS, 'push'] : LOCAL_STEPS });
  steps.push(...local.steps);
  const result = (ok: boolean, extra: Partial<QuickstartResult> = {}): QuickstartResult => ({
    ok, dir, reference, ...(local.digest ? { digest: local.digest } : {}), steps, seconds: seconds(started), ...extra,
  });
  if (!local.ok) return result(false);

  const served = path.join(dir, 'served');
  const answer = await serveAndAsk(ctx.store.layout, reference, served, opts, timed);
  const ideaToInferenceSeconds = seconds(started);

  const gitopsRepository = path.join(dir, 'gitops.git');
  await mkdir(gitopsRepository, { recursive: true });
  await promisify(execFile)('git', ['init', '-q', '--bare', '-b', 'main', gitopsRepository]).catch((err: unknown) => {
    throw new ModelshipError('INPUT_INVALID', `git init --bare ${gitopsRepository} failed: is git installed? ${String(err)}`, { cause: err });
  });
  // The cluster clones the repository once it is pushed where it can reach it; never the local path.
  if (!base.base) {
    steps.push({ step: 'handoff', status: 'skipped', seconds: 0, summary: `nothing handed off: KServe starts only a ModelCar, and no ModelCar base was at hand (see the base line); run the quickstart again with --modelcar-base REF, a base this machine and the cluster can reach` });
    return result(true, { answer, ideaToInferenceSeconds });
  }
  const handoff = await runPipeline(ctx, { steps: ['handoff'], runners: { handoff: handoffStep({ repository: gitopsRepository, clusterUrl: opts.gitopsUrl ?? QUICKSTART_GITOPS_URL, delivery: 'argocd' }) } });
  steps.push(...handoff.steps);
  return result(handoff.ok, { answer, ideaToInferenceSeconds });
}

/** The base given, or one built into the store from the machine's static busybox; skipped, with what to do, when there is none. */
async function modelCarBaseStep(store: Parameters<typeof hostBusyboxBase>[0], opts: QuickstartOptions): Promise<{ base?: ModelCarBase; step: QuickstartStep }> {
  const t0 = performance.now();
  if (opts.modelcar) {
    return { base: opts.modelcar, step: { step: 'base', status: 'passed', seconds: seconds(t0), summary: `ModelCar base ${opts.modelcar.reference} from ${opts.modelcar.target.location}` } };
  }
  try {
    const built = await hostBusyboxBase(store, opts.busybox);
    const platform = formatPlatform(built.platform);
    return {
      base: built,
      step: {
        step: 'base', status: 'passed', seconds: seconds(t0),
        summary: `ModelCar base ${built.reference} (${platform} only) built from this machine's busybox${built.version ? ` ${built.version}` : ''}; its layer is pushed with the model, so the cluster pulls it from the same registry`,
        data: { digest: built.reference, platform, ...(built.version ? { busybox: built.version } : {}) },
      },
    };
  } catch (err) {
    if (!isModelshipError(err)) throw err;
    return { step: { step: 'base', status: 'skipped', seconds: seconds(t0), summary: `no ModelCar base: ${err.message}`, data: { code: err.code } } };
  }
}

/** Unpacks the packed model (its bytes come from the artifact), serves it, and asks one question. */
async function serveAndAsk(
  store: Parameters<typeof unpack>[0],
  reference: string,
  folder: string,
  opts: QuickstartOptions,
  timed: <T>(step: QuickstartStep['step'], work: () => Promise<{ value: T; summary: string; data?: Record<string, unknown> }>) => Promise<T>,
): Promise<string> {
  const { openNativeModel, startInferenceServer } = await import('../infer/index.js');
  const { engine, server } = await timed('serve', async () => {
    await unpack(store, reference, folder, { filters: [parseUnpackFilter('weights')] });
    const { engine } = await openNativeModel(folder, { cwd: opts.cwd, threads: opts.threads ?? 1, contextSize: 512, modelId: 'tiny-chat' });
    const server = await startInferenceServer({ engine, host: '127.0.0.1', port: 0 });
    return { value: { engine, server }, summary: `${reference} served at ${server.url}/v1 (OpenAI-compatible)`, data: { url: `${server.url}/v1` } };
  });
  try {
    return await timed('chat', async () => {
      const question = opts.question ?? 'Who are you?';
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'tiny-chat', messages: [{ role: 'user', content: question }], temperature: 0 }),
      });
      const body = (await res.json()) as { choices?: Array<{ message?: { content?: string } }>; error?: { message?: string } };
      const answer = body.choices?.[0]?.message?.content;
      if (!res.ok || typeof answer !== 'string') throw new ModelshipError('INFER_ENGINE_FAILED', `the served model did not answer (${res.status}): ${body.error?.message ?? 'no message'}`);
      return { value: answer, summary: `"${question}" → "${answer}"`, data: { question, answer } };
    });
  } finally {
    await server.close();
    await engine.dispose();
  }
}

/**
 * The project as its first commit, as a real project is: the signed provenance then names the
 * commit the model was packed from. A project already committed (by `prepare`) keeps its history.
 */
async function commitProject(project: string): Promise<string> {
  const git = (...args: string[]) => promisify(execFile)('git', ['-c', 'user.name=modelship quickstart', '-c', 'user.email=quickstart@modelship.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: project }).then((r) => r.stdout.trim());
  try {
    // Only the project's own repository counts, never one it happens to sit inside.
    const top = await git('rev-parse', '--show-toplevel').catch(() => '');
    const head = top && (await realpath(top)) === (await realpath(project)) ? await git('rev-parse', '--verify', '-q', 'HEAD').catch(() => '') : '';
    if (head) return head;
    await git('init', '-q', '-b', 'main');
    await git('add', '-A');
    await git('commit', '-q', '--no-verify', '-m', 'tiny-chat from the chat template');
    return await git('rev-parse', 'HEAD');
  } catch (err) {
    throw new ModelshipError('INPUT_INVALID', `git could not commit the quickstart project in ${project}: is git installed? ${String(err)}`, { cause: err });
  }
}
