/**
 * A ModelCar of one platform can only be pulled on nodes of that architecture (a runtime takes the
 * index entry for its own platform, containerd platforms.Default(), and finds none on another), so
 * the environment's pin keeps its Pods on such nodes with the kubelet's `kubernetes.io/arch` label;
 * a two-platform ModelCar (linux/amd64 and linux/arm64) runs on either and gets no selector.
 */
import { describe, expect, inject, it } from 'vitest';
import { handoff } from '../../modules/gitops/index.js';
import { multiArchBase } from '../modelpack/busybox.js';
import { pushModel, signingKeys, type PushedModel } from './helpers.js';
import { kustomizeBuild, writeLayout } from './kustomize.js';

const registry = inject('registry');

/** The InferenceService the dev overlay builds (kubectl kustomize), for the model handed off with --check. */
async function builtInferenceService(model: PushedModel) {
  const keys = await signingKeys();
  const result = await handoff({
    target: model.target, registry: model.registry, repository: model.repository, selector: model.tag,
    namespace: 'models', env: 'dev', delivery: 'flux', policy: 'kyverno',
    identity: { kind: 'key', publicKeyPem: keys.publicPem },
    gitops: { repository: 'https://github.com/acme/gitops.git', branch: 'main', root: 'models', author: { name: 'ci', email: 'ci@example.com' } },
    check: true, insecureRegistry: true,
  });
  const built = await kustomizeBuild(await writeLayout(result.layout!), 'models/tiny-chat/overlays/dev');
  return built.find((o) => o.kind === 'InferenceService')!;
}

describe('the node architecture of a ModelCar', () => {
  it('keeps a single-platform ModelCar on nodes of its architecture', async () => {
    const single = await pushModel(registry, { format: 'gguf', modelcar: true, repository: 'gitops/arch-single', seed: 51 });
    const isvc = await builtInferenceService(single);
    expect(isvc.spec.predictor.model.storageUri).toContain(single.pulled.digest);
    expect(isvc.spec.predictor.nodeSelector).toEqual({ 'kubernetes.io/arch': 'amd64' });
  });

  it('gives a linux/amd64 and linux/arm64 ModelCar no selector', async () => {
    const both = await pushModel(registry, { format: 'gguf', modelcar: true, repository: 'gitops/arch-multi', seed: 52, base: { target: await multiArchBase(), reference: 'multi' } });
    const isvc = await builtInferenceService(both);
    expect(isvc.spec.predictor.model.storageUri).toContain(both.pulled.digest);
    expect(isvc.spec.predictor.nodeSelector).toBeUndefined();
  });
});
