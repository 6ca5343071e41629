/**
 * `--policy DIR|FILE [--env ENV]` for `serve`, `check` and `ship`: the admission policy the GitOps
 * repository holds, applied here before serving or shipping, refusing as the cluster would.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describeError, ModelshipError, UsageError } from '../../errors/index.js';
import { assertClusterPolicy, evaluateClusterPolicy, loadClusterPolicy, mofVerdict, type ClusterPolicySet, type ClusterPolicyVerdict } from '../../gitops/index.js';
import { artifactRepository } from '../../sign/artifact/index.js';
import { openCopy, openStore } from '../../store/index.js';
import { flagString, type CommandContext } from '../command.js';
import { readFlagFile } from './flag-files.js';
import { openContextOf } from './references.js';

export { CLUSTER_POLICY_HELP, CLUSTER_POLICY_OPTIONS } from './cluster-policy-flags.js';

export interface ClusterPolicyGate {
  policy: ClusterPolicySet;
  trustedRoot?: unknown;
}

/** The policy --policy names, or undefined without it. */
export async function clusterPolicyGateOf(ctx: CommandContext): Promise<ClusterPolicyGate | undefined> {
  const given = flagString(ctx, 'policy');
  const env = flagString(ctx, 'env');
  if (!given) {
    if (env !== undefined) throw new UsageError('--env names the environment of the policy --policy reads: give --policy DIR|FILE too');
    return undefined;
  }
  const policy = await loadClusterPolicy(resolve(ctx.cwd, given), env === undefined ? {} : { env });
  const rootFile = flagString(ctx, 'trusted-root') ?? ctx.env['MODELSHIP_TRUSTED_ROOT'];
  if (!rootFile) return { policy };
  const path = resolve(ctx.cwd, rootFile);
  const text = await readFlagFile(path, '--trusted-root');
  try {
    return { policy, trustedRoot: JSON.parse(text) as unknown };
  } catch (err) {
    throw new ModelshipError('INPUT_INVALID', `${path} is not JSON: ${describeError(err)}`, { cause: err });
  }
}

export interface AdmittedReference {
  /** HOST/REPO@sha256:… : the copy that was judged, so what is served is exactly what was admitted. */
  reference: string;
  verdict: ClusterPolicyVerdict;
}

/**
 * Judge what `input` names as the cluster would: the registry's copy (what a cluster pulls), by the
 * digest it resolves to now. A file or folder has no signature to check, so it is refused.
 */
export async function admitReference(ctx: CommandContext, input: string, gate: ClusterPolicyGate): Promise<AdmittedReference> {
  if (await stat(resolve(ctx.cwd, input)).catch(() => undefined)) {
    throw new ModelshipError('POLICY_NOTHING_SIGNED', `${input} is a file or folder: it carries no signature for the cluster's policy to check; pack, sign and push it ("modelship ship"), then serve the registry reference with --policy`);
  }
  const store = openStore(ctx.env, ctx.cwd);
  const copy = await openCopy(input, { ...openContextOf(ctx, store, 'registry'), store, prefer: 'registry' });
  const repository = artifactRepository(copy.opened);
  if (!repository) {
    throw new ModelshipError('POLICY_NOT_COVERED', `${input} is an OCI layout on disk, which no cluster pulls and no admission policy names: push it and serve the registry reference the policy checks`);
  }
  const { target, display } = copy.opened;
  const digest = copy.descriptor.digest;
  const verdict = await evaluateClusterPolicy({
    target, digest, repository,
    ...(gate.trustedRoot !== undefined ? { trustedRoot: gate.trustedRoot } : {}),
    mof: (require) => mofVerdict(target, digest, display, require),
  }, gate.policy);
  assertClusterPolicy(verdict);
  return { reference: `${repository}@${digest}`, verdict };
}

/** One line: which policies admitted the image. */
export function admittedLine(verdict: ClusterPolicyVerdict): string {
  const rules = verdict.rules.map((r) => `${r.controller} ${r.policy}${r.rule ? `/${r.rule}` : ''} (${r.file})`).join(', ');
  return `admitted by ${rules}${verdict.mof ? `; ${verdict.mof.label} meets Class ${verdict.mof.require}` : ''}: ${verdict.image}`;
}
