/**
 * The compatibility matrix: which releases of the cluster's controllers the hand-off writes for, and
 * what each combination of artifact, mount, policy and delivery runs on them. A combination they
 * cannot run is refused with the reason and the option that works, before anything is built.
 * Each rule names where it lives upstream; docs/outer-loop.md lists them as a table.
 */
import { ModelshipError, UsageError } from '../errors/index.js';
import type { AdmissionPolicy, Delivery, Mount } from './model-ref.js';

/** A release as MAJOR.MINOR (patch releases do not change what is written). */
export interface Release {
  major: number;
  minor: number;
}

export interface ClusterVersions {
  kserve: Release;
  kubernetes: Release;
  kyverno: Release;
  flux: Release;
}

/** The current stable releases, which the CRDs in schemas/crds come from. */
export const DEFAULT_VERSIONS: Readonly<ClusterVersions> = {
  kserve: { major: 0, minor: 20 },
  kubernetes: { major: 1, minor: 35 },
  kyverno: { major: 1, minor: 19 },
  flux: { major: 2, minor: 8 },
};

/** The oldest release of each that the hand-off writes for, and why. */
export const MINIMUM_VERSIONS: Readonly<Record<keyof ClusterVersions, { release: Release; why: string }>> = {
  // KServe 0.14 pulls oci:// models as a ModelCar sidecar (enableModelcar, on by default since).
  kserve: { release: { major: 0, minor: 14 }, why: 'ModelCar (oci://) storage is on by default from KServe 0.14' },
  kubernetes: { release: { major: 1, minor: 29 }, why: 'KServe 0.14 supports Kubernetes 1.29 and newer' },
  // failureAction on each verifyImages rule (rather than validationFailureAction) is Kyverno 1.13's.
  kyverno: { release: { major: 1, minor: 13 }, why: 'verifyImages failureAction is read from Kyverno 1.13' },
  // source.toolkit.fluxcd.io/v1 OCIRepository is served from Flux 2.6 (source-controller 1.6).
  flux: { release: { major: 2, minor: 6 }, why: 'OCIRepository v1 is served from Flux 2.6' },
};

export function formatRelease(r: Release): string {
  return `${r.major}.${r.minor}`;
}

export function atLeast(r: Release, major: number, minor: number): boolean {
  return r.major > major || (r.major === major && r.minor >= minor);
}

/** `0.20`, `v1.19.1` or `1.35` → { major, minor }; refuses anything else, naming the flag. */
export function parseRelease(raw: string, flag: string): Release {
  const m = /^v?(\d{1,3})\.(\d{1,3})(?:\.\d{1,4})?$/.exec(raw.trim());
  if (!m) throw new UsageError(`${flag} takes a release as MAJOR.MINOR (e.g. ${flag} ${formatRelease(DEFAULT_VERSIONS[flagKey(flag)])}), not "${raw}"`);
  return { major: Number(m[1]), minor: Number(m[2]) };
}

function flagKey(flag: string): keyof ClusterVersions {
  const key = flag.replace(/^--/, '').replace(/-version$/, '');
  return (key in DEFAULT_VERSIONS ? key : 'kserve') as keyof ClusterVersions;
}

/** The defaults with any release given overriding them; each checked against its minimum. */
export function clusterVersions(given: Partial<ClusterVersions> = {}): ClusterVersions {
  const versions = { ...DEFAULT_VERSIONS, ...given };
  for (const key of Object.keys(MINIMUM_VERSIONS) as (keyof ClusterVersions)[]) {
    const min = MINIMUM_VERSIONS[key];
    if (!atLeast(versions[key], min.release.major, min.release.minor)) {
      throw new ModelshipError('GITOPS_UNSUPPORTED', `${key} ${formatRelease(versions[key])} is older than the hand-off supports (${key} ${formatRelease(min.release)} or newer: ${min.why}); upgrade it, or give the release the cluster runs with --${key === 'flux' ? 'flux-version' : key}`);
    }
  }
  return versions;
}

/** What the chosen releases need written: the choices the layout follows. */
export interface CompatPlan {
  versions: ClusterVersions;
  /** KServe's deployment mode annotation: Standard from 0.16, RawDeployment before. */
  deploymentMode: 'Standard' | 'RawDeployment';
  /** Kyverno verifyImages type: SigstoreBundle with keys from 1.19, cosign's signature form before. */
  kyvernoType: 'SigstoreBundle' | 'Cosign';
  /** The oldest Kyverno release that runs the policy as written. */
  kyvernoMinimum: string;
  /** Flux finds the cosign v3 bundle from 2.8; older releases read only the `sha256-<hex>.sig` signature. */
  fluxReadsBundles: boolean;
}

export interface CompatInput {
  versions: ClusterVersions;
  mount: Mount;
  /** The artifact carries a ModelCar image (a /models folder KServe can mount). */
  hasModelCar: boolean;
  policy: AdmissionPolicy;
  delivery: Delivery;
  /** HOST/REPO@DIGEST, for the messages. */
  artifact?: string;
}

/** The matrix: refuses what the releases cannot start or would not check; otherwise the choices to write. */
export function compatPlan(input: CompatInput): CompatPlan {
  const { versions: v, mount } = input;
  const refuse = (message: string): never => {
    throw new ModelshipError('GITOPS_UNSUPPORTED', message, { details: { versions: Object.fromEntries(Object.entries(v).map(([k, r]) => [k, formatRelease(r)])) } });
  };
  if (!input.hasModelCar) {
    // KServe mounts every OCI model at subPath "models" (kserve v0.20.0 pkg/utils/storage.go
    // ConfigureOciNativeToContainer; the ModelCar sidecar links /proc/$$/root/models): a plain
    // ModelPack artifact has no models/ folder, so neither mount can start.
    refuse(`${input.artifact ?? 'the artifact'} is a plain ModelPack artifact: KServe mounts OCI models from a models/ folder (oci:// as a ModelCar, oci+native:// at subPath models), which it does not have, so no Pod could start; pack it with "modelship pack --modelcar" and hand off that tag`);
  }
  if (mount === 'image-volume') {
    if (!atLeast(v.kserve, 0, 20)) refuse(`--mount image-volume writes oci+native://, which KServe reads from 0.20 (constants.OciNativeURIPrefix); KServe ${formatRelease(v.kserve)} runs --mount modelcar`);
    // kserve v0.20.0 pkg/utils/imagevolume.go CheckImageVolumeCompatibility: beta and off by default in 1.33–1.34, on from 1.35.
    if (!atLeast(v.kubernetes, 1, 35)) refuse(`--mount image-volume needs Kubernetes image volumes, on by default from 1.35 (1.33–1.34 only with the ImageVolume feature gate, older without subPath); on Kubernetes ${formatRelease(v.kubernetes)} use --mount modelcar`);
    // policy-controller v0.15.1 checks containers, initContainers and ephemeralContainers, never spec.volumes[].image.
    if (input.policy === 'policy-controller') refuse('policy-controller never checks image volumes (it reads containers, initContainers and ephemeralContainers only), so the model would run unverified: use --mount modelcar, or --policy kyverno, which checks spec.volumes[].image');
  }
  return {
    versions: v,
    deploymentMode: atLeast(v.kserve, 0, 16) ? 'Standard' : 'RawDeployment',
    kyvernoType: atLeast(v.kyverno, 1, 19) ? 'SigstoreBundle' : 'Cosign',
    kyvernoMinimum: atLeast(v.kyverno, 1, 19) ? '1.19.0' : '1.13.0',
    fluxReadsBundles: atLeast(v.flux, 2, 8),
  };
}
