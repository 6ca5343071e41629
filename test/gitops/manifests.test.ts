import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kustomizationFolders, kustomizeBuild, writeLayout } from './kustomize.js';
import { crdSchemas } from '../../scripts/extract-crd-schemas.mjs';
import { isModelshipError } from '../../modules/errors/index.js';
import { buildLayout, checkLayout, clusterVersions, compatPlan, validateManifest, type LayoutInput, type ModelDeployment } from '../../modules/gitops/index.js';

function hasCodeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    return isModelshipError(err) ? err.code : String(err);
  }
  return undefined;
}

const root = resolve(import.meta.dirname, '..', '..');
const DIGEST = `sha256:${'4e'.repeat(32)}`;

function deployment(over: Partial<ModelDeployment> = {}): ModelDeployment {
  return {
    name: 'tiny-chat', version: 'v1', image: { registry: 'ghcr.io', repository: 'acme/tiny-chat', digest: DIGEST },
    format: 'gguf', modelFile: 'tiny-chat.gguf', mount: 'modelcar', gpus: 0, namespace: 'models',
    registry: { registeredModelId: '3', modelVersionId: '12', modelArtifactId: '40', url: 'https://model-registry.example' },
    ...over,
  };
}

function layoutInput(over: Partial<LayoutInput> = {}): LayoutInput {
  const d = over.deployment ?? deployment();
  const policy = over.policy ?? 'kyverno';
  const delivery = over.delivery ?? 'flux';
  return {
    deployment: d, env: 'dev', delivery, policy, root: 'models',
    identity: { kind: 'key', publicKeyPem: '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n' },
    repositoryUrl: 'https://github.com/acme/gitops.git', branch: 'main', probeLayerMediaType: 'application/vnd.cncf.model.doc.v1.tar',
    verifyDigest: `sha256:${'5f'.repeat(32)}`,
    plan: compatPlan({ versions: clusterVersions(), mount: d.mount, hasModelCar: true, policy, delivery }),
    ...over,
  };
}

const CASES: [string, Partial<LayoutInput>][] = [
  ['GGUF, ModelCar, Flux, Kyverno, key', {}],
  ['safetensors, ModelCar, Argo CD, policy-controller, keyless', {
    deployment: deployment({ format: 'safetensors', gpus: 2 }), delivery: 'argocd', policy: 'policy-controller', env: 'prod',
    identity: { kind: 'keyless', subjectRegExp: '^https://github\\.com/acme/.*$', issuer: 'https://token.actions.githubusercontent.com' },
  }],
  ['GGUF, image volume, Argo CD, Kyverno, keyless', {
    deployment: deployment({ mount: 'image-volume', gpus: 1 }), delivery: 'argocd', env: 'staging',
    identity: { kind: 'keyless', subjectRegExp: '^ci@acme\\.com$', issuer: 'https://accounts.google.com' },
  }],
  ['safetensors, ModelCar, Flux, policy-controller, key', { deployment: deployment({ format: 'safetensors' }), policy: 'policy-controller' }],
];

describe('GitOps manifests', () => {
  it.each(CASES)('%s: every object validates against its CRD, and every kustomization builds with kubectl kustomize', async (_name, over) => {
    const files = buildLayout(layoutInput(over));
    const objects = files.flatMap((f) => f.objects ?? []);
    expect(objects.length).toBeGreaterThanOrEqual(3);
    for (const o of objects) expect(validateManifest(o)).toEqual([]);
    const kinds = objects.map((o) => o['kind']).sort();
    expect(kinds).toContain('InferenceService');
    expect(kinds).toContain(over.policy === 'policy-controller' ? 'ClusterImagePolicy' : 'ClusterPolicy');
    expect(kinds).toContain(over.delivery === 'argocd' ? 'Application' : 'OCIRepository');
    const pin = parse(files.find((f) => f.path.endsWith('inferenceservice-pin.yaml'))!.text);
    const scheme = (over.deployment?.mount ?? 'modelcar') === 'modelcar' ? 'oci' : 'oci+native';
    expect(pin.spec.predictor.model.storageUri).toBe(`${scheme}://ghcr.io/acme/tiny-chat@${DIGEST}`);
    expect(pin.metadata.labels['modelregistry.kubeflow.org/registered-model-id']).toBe('3');
    // Every kustomization builds as the controllers build it.
    const dir = await writeLayout(files);
    for (const folder of kustomizationFolders(files)) expect((await kustomizeBuild(dir, folder)).length, folder).toBeGreaterThan(0);
  });

  it('rejects an unknown field anywhere, as kubeconform -strict does, and a wrong type or enum', () => {
    const isvc = buildLayout(layoutInput())[0]!.objects![0]!;
    const spec = isvc['spec'] as { predictor: { model: Record<string, unknown> } };
    expect(validateManifest({ ...isvc, spec: { predictor: { model: { ...spec.predictor.model, storageUrl: 'oci://x' } } } })).toEqual([
      expect.objectContaining({ path: '/spec/predictor/model', message: 'unknown field "storageUrl"' }),
    ]);
    expect(validateManifest({ ...isvc, extra: 1 })[0]?.message).toBe('unknown field "extra"');
    const flux = buildLayout(layoutInput()).find((f) => f.path.endsWith('flux.yaml'))!.objects!.find((o) => o['kind'] === 'OCIRepository')!;
    const verify = { provider: 'sigstore' };
    expect(validateManifest({ ...flux, spec: { ...(flux['spec'] as object), verify } })[0]).toMatchObject({ path: '/spec/verify/provider', message: 'must be one of ["cosign","notation"]' });
    expect(validateManifest({ ...flux, spec: { ...(flux['spec'] as object), interval: 'ten minutes' } })[0]?.path).toBe('/spec/interval');
  });

  it('refuses a bad name and an image without a digest before building anything', () => {
    expect(hasCodeOf(() => buildLayout(layoutInput({ deployment: deployment({ name: 'Tiny_Chat' }) })))).toBe('GITOPS_INVALID_NAME');
    expect(hasCodeOf(() => buildLayout(layoutInput({ deployment: deployment({ name: 'a'.repeat(64) }) })))).toBe('GITOPS_INVALID_NAME');
    expect(hasCodeOf(() => buildLayout(layoutInput({ deployment: deployment({ image: { registry: 'ghcr.io', repository: 'acme/tiny-chat', digest: 'v1' } }) })))).toBe('GITOPS_DIGEST_REQUIRED');
    expect(hasCodeOf(() => buildLayout(layoutInput({ root: '../outside' })))).toBe('GITOPS_INVALID_PATH');
    expect(validateManifest({ apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name: '9lives' }, spec: { predictor: {} } })[0]?.path).toBe('/metadata/name');
  });

  it('finds a kustomization that names a missing file or an overlay that does not build on the base', () => {
    const files = buildLayout(layoutInput());
    const overlay = files.find((f) => f.path === 'models/tiny-chat/overlays/dev/kustomization.yaml')!;
    const broken = files.map((f) => (f === overlay ? { ...f, text: f.text.replace('inferenceservice-pin.yaml', 'missing.yaml').replace('../../base', '../../elsewhere') } : f));
    expect(() => checkLayout(broken)).toThrow(/"missing\.yaml" is neither a file[\s\S]*does not build on \.\.\/\.\.\/base/);
  });

  it('ships exactly the schemas of the upstream CRDs in test/vectors/crds', async () => {
    const vectors = join(root, 'test/vectors/crds');
    const expected: Record<string, unknown> = {};
    for (const dir of await readdir(vectors, { withFileTypes: true })) {
      if (!dir.isDirectory()) continue;
      for (const file of (await readdir(join(vectors, dir.name))).filter((f) => f.endsWith('.yaml'))) Object.assign(expected, crdSchemas(await readFile(join(vectors, dir.name, file), 'utf8')));
    }
    expect(Object.keys(expected).length).toBe(10);
    for (const [name, schema] of Object.entries(expected)) expect(JSON.parse(await readFile(join(root, 'schemas/crds', name), 'utf8')), name).toEqual(schema);
  });
});
