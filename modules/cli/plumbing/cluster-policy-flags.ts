/**
 * The `--policy` flags and their help, apart from the policy machinery (gitops, signing, store),
 * so that a command can list them and load that machinery only when a policy is given.
 */
import { flagString, type CommandContext, type OptionSpec } from '../command.js';

export const CLUSTER_POLICY_OPTIONS = {
  policy: { type: 'string' },
  env: { type: 'string' },
  'trusted-root': { type: 'string' },
} satisfies OptionSpec;

export const CLUSTER_POLICY_HELP = `  --policy DIR|FILE    apply the cluster's admission policy first: a clone of the GitOps repository
                       "modelship handoff" writes to (its policy/<env>/ folders), or one Kyverno
                       ClusterPolicy / policy-controller ClusterImagePolicy file. The image must be
                       one the policy checks, its signature must verify with the policy's key or
                       keyless identity in the form the controller reads, and its MOF class must
                       reach the minimum the hand-off recorded; otherwise it is refused with the
                       controller's own reason (exit 8; 9 for the MOF class). See docs/policy.md.
  --env ENV            the environment whose policy applies, when the repository holds several
  --trusted-root FILE  Sigstore trusted_root.json for a keyless policy (or MODELSHIP_TRUSTED_ROOT)`;

/** Whether the command line asks for a cluster policy (--policy, or --env, which clusterPolicyGateOf refuses alone). */
export function clusterPolicyAsked(ctx: CommandContext): boolean {
  return flagString(ctx, 'policy') !== undefined || flagString(ctx, 'env') !== undefined;
}
