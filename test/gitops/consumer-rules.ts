/**
 * Each cluster consumer's acceptance rule, ported from its source at the named release, so a test can
 * apply it to what the hand-off writes (and to what `sign` attached in a real registry).
 */
import type { Descriptor, ReadOnlyTarget } from '../../modules/oci/index.js';
import { fetchManifest } from '../../modules/oci/manifest.js';
import type { K8sObject } from './kustomize.js';

/**
 * sigstore/policy-controller v0.15.1 pkg/apis/glob/glob.go Compile + Match: `**` any characters,
 * `*` any but "/", the whole reference name (`ref.Name()`, host/repo@digest or host/repo:tag) must match.
 */
export function policyControllerGlobMatch(glob: string, image: string): boolean {
  if (!/^[a-zA-Z0-9-_:/*.@]+$/.test(glob)) throw new Error(`invalid glob ${glob}`);
  const re = glob.replaceAll('.', '\\.').replaceAll('**', '#').replaceAll('*', '[^/]*').replaceAll('#', '.*');
  return new RegExp(`^${re}$`).test(image);
}

/**
 * sigstore/policy-controller v0.15.1 pkg/webhook/validator.go checkOptsFromAuthority: `bundle` with
 * anything but keyless is refused; and the image-signature check (cosign VerifyImageSignatures,
 * cosign v3.0–3.1 pkg/cosign/verify.go) does not read bundles, so a bundle authority without
 * `attestations:` verifies nothing.
 */
export function policyControllerAuthorityError(authority: Record<string, unknown>): string | undefined {
  if (authority['signatureFormat'] === 'bundle') {
    if (!authority['keyless']) return 'when using the new bundle format, the authority must be keyless';
    if (!authority['attestations']) return 'bundle support for image signatures is not yet implemented';
  }
  if (!authority['key'] && !authority['keyless'] && !authority['static']) return 'authority has neither key, keyless, or static specified';
  return undefined;
}

/** policy-controller v0.15.1 config/500-webhook-configuration.yaml: namespaceSelector policy.sigstore.dev/include In ["true"]. */
export function policyControllerWebhookActs(namespace: K8sObject | undefined): boolean {
  return namespace?.metadata.labels?.['policy.sigstore.dev/include'] === 'true';
}

/** The images policy-controller checks in a Pod: containers, initContainers, ephemeralContainers; never volumes. */
export function policyControllerPodImages(pod: K8sObject): string[] {
  const spec = pod.spec ?? {};
  return ['containers', 'initContainers', 'ephemeralContainers'].flatMap((k) => ((spec[k] ?? []) as { image: string }[]).map((c) => c.image));
}

/** kyverno/kyverno ext/wildcard: `*` any characters, `?` one. */
export function kyvernoWildcardMatch(pattern: string, image: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
  return new RegExp(`^${re}$`).test(image);
}

/**
 * Which Kyverno releases verify a verifyImages entry: `SigstoreBundle` with `keys` builds key trusted
 * material only from v1.19.0 (pkg/image/verifiers/cpol/cosign/sigstore.go buildKeyTrustedMaterial);
 * 1.13–1.18 build a certificate identity against the public Sigstore root and reject it.
 */
export function kyvernoVerifies(entry: { type?: string; attestors?: { entries: { keys?: unknown; keyless?: unknown }[] }[] }, version: [number, number]): boolean {
  const atLeast = (maj: number, min: number) => version[0] > maj || (version[0] === maj && version[1] >= min);
  if (!atLeast(1, 13)) return false;
  const usesKeys = (entry.attestors ?? []).some((a) => a.entries.some((e) => e.keys));
  if (entry.type === 'SigstoreBundle' && usesKeys) return atLeast(1, 19);
  return true;
}

/**
 * fluxcd/source-controller v1.8.0 internal/controller/ocirepository_controller.go: `remote.Image` on
 * the ref (an index resolves to linux/amd64), then the first layer whose media type is
 * layerSelector.mediaType; none is an error and the source never becomes Ready.
 */
export async function sourceControllerLayer(target: ReadOnlyTarget, digest: string, mediaType: string): Promise<{ manifest: string; layer?: Descriptor }> {
  const top = await fetchManifest(target, await target.resolve(digest), digest);
  let manifest = digest;
  let layers: Descriptor[];
  if ('manifests' in top) {
    const amd64 = top.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64');
    if (!amd64) return { manifest };
    manifest = amd64.digest;
    const image = await fetchManifest(target, amd64, amd64.digest);
    layers = 'layers' in image ? image.layers : [];
  } else {
    layers = top.layers;
  }
  const layer = layers.find((l) => l.mediaType === mediaType);
  return { manifest, ...(layer ? { layer } : {}) };
}

/** Argo CD (gitops-engine pkg/sync/syncwaves): the wave annotation, 0 when absent. */
export function argoWave(o: K8sObject): number {
  return Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? '0');
}
