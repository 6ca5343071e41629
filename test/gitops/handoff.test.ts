import { createPublicKey } from 'node:crypto';
import { execa } from 'execa';
import { describe, expect, inject, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { handoff, type HandoffOptions } from '../../modules/gitops/index.js';
import type { RegisterInput, RegisterResult } from '../../modules/registry/contract.js';
import { BUNDLE_V03_MEDIA_TYPE, verifyBundle } from '../../modules/sign/index.js';
import { COSIGN_SIGN_PREDICATE_TYPE, findBundles } from '../../modules/sign/artifact/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../modelpack/helpers.js';
import { sourceControllerLayer } from './consumer-rules.js';
import { bareRepository, gitLog, gitShow, pushModel, signingKeys, signModel, signModelManifestOnly } from './helpers.js';

const registry = inject('registry');

/** Records each call and answers as an idempotent registry would: same (name, version), same ids. */
function recordingRegistry() {
  const calls: RegisterInput[] = [];
  const versions = new Map<string, string>();
  const register = async (input: RegisterInput): Promise<RegisterResult> => {
    calls.push(input);
    const key = `${input.name}/${input.version}`;
    const created = !versions.has(key);
    if (created) versions.set(key, String(100 + versions.size));
    return { registeredModelId: '7', modelVersionId: versions.get(key)!, modelArtifactId: `9${versions.get(key)}`, created: { registeredModel: calls.length === 1, modelVersion: created, modelArtifact: created }, registry: 'http://model-registry.kubeflow:8080' };
  };
  return { calls, register };
}

describe('modelship handoff', () => {
  it('writes CRD-valid manifests for the digest, labels them from the registry, and a second hand-off changes nothing', async () => {
    const keys = await signingKeys();
    const model = await pushModel(registry, { format: 'gguf', modelcar: true, repository: 'gitops/tiny-chat' });
    await signModel(model, keys);
    const bare = await bareRepository();
    const { calls, register } = recordingRegistry();
    const options: HandoffOptions = {
      target: model.target, registry: model.registry, repository: model.repository, selector: model.tag,
      namespace: 'models', env: 'staging', delivery: 'flux', policy: 'kyverno',
      identity: { kind: 'key', publicKeyPem: keys.publicPem },
      verification: { kind: 'key', publicKey: createPublicKey(keys.publicPem) },
      register,
      gitops: { repository: bare, clusterUrl: 'https://github.com/acme/gitops.git', branch: 'main', root: 'models', author: { name: 'ci', email: 'ci@example.com' } },
      insecureRegistry: true,
    };
    const first = await handoff(options);
    expect(first.digest).toBe(model.pulled.digest);
    expect(first.storageUri).toBe(`oci://${registry}/gitops/tiny-chat@${model.pulled.digest}`);
    expect(first.publish?.committed).toBe(true);
    expect(calls[0]).toMatchObject({ name: 'tiny-chat', version: 'v1', digest: model.pulled.digest, uri: first.storageUri, modelFormatName: 'gguf' });

    const log = await gitLog(bare);
    expect(log).toHaveLength(1);
    expect(log[0]).toContain(`handoff: tiny-chat v1 (${model.pulled.digest}) to staging`);
    const pin = parse(await gitShow(bare, 'models/tiny-chat/overlays/staging/inferenceservice-pin.yaml'));
    expect(pin.spec.predictor.model.storageUri).toBe(first.storageUri);
    // The labels are the ids the registry returned, not ones we made up.
    expect(pin.metadata.labels).toEqual({ 'modelregistry.kubeflow.org/registered-model-id': '7', 'modelregistry.kubeflow.org/model-version-id': '100' });
    const runtime = parse(await gitShow(bare, 'models/tiny-chat/base/servingruntime.yaml'));
    expect(runtime.spec.containers[0].args).toContain('/mnt/models/tiny-chat.gguf');

    // The admission policy's inputs, checked against what signing attached to the digest the cluster pulls.
    const policy = parse(await gitShow(bare, 'models/tiny-chat/policy/staging/clusterpolicy.yaml'));
    const rule = policy.spec.rules[0].verifyImages[0];
    expect(rule.type).toBe('SigstoreBundle');
    const patterns = (rule.imageReferences as string[]).map((p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`));
    const pulledImage = first.storageUri.replace(/^oci:\/\//, '');
    expect(patterns.some((p) => p.test(pulledImage))).toBe(true);
    expect(patterns.some((p) => p.test(`${registry}/gitops/tiny-chat-evil@${model.pulled.digest}`))).toBe(false);
    const bundles = await findBundles(model.target, model.pulled);
    expect(bundles.every((b) => b.referrer.artifactType === BUNDLE_V03_MEDIA_TYPE)).toBe(true);
    const policyKey = { kind: 'key' as const, publicKey: createPublicKey(rule.attestors[0].entries[0].keys.publicKeys) };
    const imageSignatures = bundles.map((b) => verifyBundle(b.bytes!, policyKey)).filter((v) => v.statement?.predicateType === COSIGN_SIGN_PREDICATE_TYPE && v.checks.every((c) => c.ok || c.name === 'predicate' || c.name === 'subject-digest'));
    expect(imageSignatures.map((v) => v.statement!.subject[0]!.digest['sha256'])).toEqual([model.pulled.digest.slice(7)]);
    // Flux verifies the same key, from the Secret kustomize generates out of cosign.pub.
    const flux = parseAllDocuments(await gitShow(bare, 'models/tiny-chat/delivery/staging/flux.yaml')).map((d) => d.toJS());
    const oci = flux.find((o) => o.kind === 'OCIRepository');
    expect(oci.spec).toMatchObject({ ref: { digest: model.manifest.digest }, verify: { provider: 'cosign', secretRef: { name: 'tiny-chat-staging-cosign-pub' } } });
    // source-controller v1.8.0 resolves an index to linux/amd64 before layerSelector: the ModelCar image has no such layer,
    // the ModelPack manifest Flux is given does, and carries the cosign image signature Flux 2.8 verifies.
    const mediaType = oci.spec.layerSelector.mediaType as string;
    expect((await sourceControllerLayer(model.target, model.pulled.digest, mediaType)).layer).toBeUndefined();
    expect((await sourceControllerLayer(model.target, oci.spec.ref.digest, mediaType)).layer?.mediaType).toBe(mediaType);
    const manifestSignatures = (await findBundles(model.target, model.manifest)).map((b) => verifyBundle(b.bytes!, policyKey).statement).filter((st) => st?.predicateType === COSIGN_SIGN_PREDICATE_TYPE);
    expect(manifestSignatures.map((st) => st!.subject[0]!.digest['sha256'])).toEqual([model.manifest.digest.slice(7)]);
    expect(await gitShow(bare, 'models/tiny-chat/delivery/staging/cosign.pub')).toBe(keys.publicPem.trimEnd());
    // The model registry the cluster reaches is named by the labels its InferenceService controller reads.
    expect(pin.metadata.annotations['modelregistry.kubeflow.org/url']).toBe('http://model-registry.kubeflow:8080');

    const second = await handoff(options);
    expect(second.publish?.committed).toBe(false);
    expect(second.registered?.created.modelVersion).toBe(false);
    expect(await gitLog(bare)).toHaveLength(1);
  });

  it('refuses a ModelCar whose index (the digest the cluster pulls) carries no image signature', async () => {
    const keys = await signingKeys();
    const model = await pushModel(registry, { format: 'gguf', modelcar: true, repository: 'gitops/unsigned-index' });
    await signModelManifestOnly(model, keys);
    const bare = await bareRepository();
    const cwd = await tempDir('gitops-cli-');
    const run = await runCli(['handoff', model.reference, '--gitops', bare, '--key', keys.publicFile, '--plain-http', '--json'], { cwd, env: { MODELSHIP_HOME: `${cwd}/.modelship` } });
    expect(run.code).toBe(8);
    expect(run.json().error.code).toBe('VERIFY_FAILED');
    expect(run.json().error.message).toMatch(new RegExp(`no trusted signature refers to the index ${model.pulled.digest}`));
    expect(await gitLog(bare).catch(() => [])).toEqual([]);
  });

  it('refuses a certificate-chain signer (--ca or --cert-chain): no cluster policy it writes can name one', async () => {
    const bare = await bareRepository();
    const cwd = await tempDir('gitops-cli-');
    for (const flag of ['--ca', '--cert-chain']) {
      const run = await runCli(['handoff', `${registry}/gitops/any:v1`, '--gitops', bare, flag, 'ca.pem', '--json'], { cwd, env: { MODELSHIP_HOME: `${cwd}/.modelship` } });
      expect(run.code, flag).toBe(2);
      expect(run.json().error.message).toContain('use --key or --cert-identity, not --ca or --cert-chain');
    }
    expect(await gitLog(bare).catch(() => [])).toEqual([]);
  });

  it('refuses a plain ModelPack artifact in either mount: KServe could not start it', async () => {
    const keys = await signingKeys();
    const model = await pushModel(registry, { format: 'gguf', modelcar: false, repository: 'gitops/plain' });
    await signModel(model, keys);
    const bare = await bareRepository();
    const cwd = await tempDir('gitops-cli-');
    for (const mount of ['modelcar', 'image-volume']) {
      const run = await runCli(['handoff', model.reference, '--gitops', bare, '--key', keys.publicFile, '--mount', mount, '--plain-http', '--json'], { cwd, env: { MODELSHIP_HOME: `${cwd}/.modelship` } });
      expect(run.code, run.stdout).toBe(2);
      expect(run.json().error.code).toBe('GITOPS_UNSUPPORTED');
      expect(run.json().error.message).toContain('modelship pack --modelcar');
    }
    expect(await gitLog(bare).catch(() => [])).toEqual([]);
  });

  it('refuses an unsigned artifact, and one below the required MOF class, before anything is written', async () => {
    const keys = await signingKeys();
    const model = await pushModel(registry, { format: 'safetensors', modelcar: true, repository: 'gitops/unsigned' });
    const bare = await bareRepository();
    const cwd = await tempDir('gitops-cli-');
    const unsigned = await runCli(['handoff', model.reference, '--gitops', bare, '--key', keys.publicFile, '--plain-http', '--json'], { cwd, env: { MODELSHIP_HOME: `${cwd}/.modelship` } });
    expect(unsigned.code).toBe(8);
    expect(unsigned.json().error.code).toBe('VERIFY_FAILED');

    await signModel(model, keys);
    const gated = await runCli(['handoff', model.reference, '--gitops', bare, '--key', keys.publicFile, '--require', '1', '--plain-http', '--json'], { cwd, env: { MODELSHIP_HOME: `${cwd}/.modelship` } });
    expect(gated.code).toBe(9);
    expect(gated.json().error.code).toBe('GATE_FAILED');
    expect(await gitLog(bare).catch(() => [])).toEqual([]);

    const badName = await runCli(['handoff', model.reference, '--gitops', bare, '--key', keys.publicFile, '--name', 'Tiny_Chat', '--plain-http', '--json'], { cwd, env: { MODELSHIP_HOME: `${cwd}/.modelship` } });
    expect(badName.json().error.code).toBe('GITOPS_INVALID_NAME');
    expect(badName.code).toBe(3);

    // policy-controller never checks image volumes: refused with the option that works.
    const volume = await runCli(['handoff', model.reference, '--gitops', bare, '--key', keys.publicFile, '--mount', 'image-volume', '--policy', 'policy-controller', '--plain-http', '--json'], { cwd, env: { MODELSHIP_HOME: `${cwd}/.modelship` } });
    expect(volume.json().error.code).toBe('GITOPS_UNSUPPORTED');
    expect(volume.json().error.message).toContain('--policy kyverno');

    // Signed, gate skipped, Argo CD and policy-controller: lands, with a GPU for the vLLM-backed runtime,
    // recorded in the embedded registry, whose path and ids stay out of the GitOps repository.
    const home = await tempDir('gitops-home-');
    const ok = await runCli(['handoff', model.reference, '--gitops', bare, '--cluster-url', 'https://git.example.com/acme/gitops.git', '--key', keys.publicFile, '--argocd', '--policy', 'policy-controller', '--env', 'prod', '--plain-http', '--json'], { cwd, env: { MODELSHIP_HOME: home } });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.json()).toMatchObject({ name: 'tiny-chat', digest: model.pulled.digest, storageUri: `oci://${registry}/gitops/unsigned@${model.pulled.digest}`, publish: { committed: true }, registered: { registry: expect.stringContaining(home) } });
    const grep = await execa('git', ['--git-dir', bare, 'grep', '-I', '-e', home, '-e', 'modelregistry.kubeflow.org', 'main'], { reject: false });
    expect(grep.stdout).toBe('');
    expect((await gitLog(bare)).join('\n')).not.toContain(home);
    expect((await execa('git', ['--git-dir', bare, 'log', '--format=%B', 'main'])).stdout).not.toContain(home);
    const base = parse(await gitShow(bare, 'models/tiny-chat/base/inferenceservice.yaml'));
    expect(base.spec.predictor.model.resources.limits['nvidia.com/gpu']).toBe('1');
    expect(base.spec.predictor.model.modelFormat.name).toBe('huggingface');
    const apps = parseAllDocuments(await gitShow(bare, 'models/tiny-chat/delivery/prod/argocd.yaml')).map((d) => d.toJS());
    expect(apps.map((a) => a.spec.source.path)).toEqual(['models/tiny-chat/delivery/prod']);
    expect(apps[0].spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    expect(parse(await gitShow(bare, 'models/tiny-chat/overlays/prod/namespace.yaml')).metadata.labels).toEqual({ 'policy.sigstore.dev/include': 'true' });
  });

  it('--check validates and writes nothing; a reference outside a registry is refused', async () => {
    const keys = await signingKeys();
    const model = await pushModel(registry, { format: 'gguf', modelcar: true, repository: 'gitops/check' });
    const bare = await bareRepository();
    const cwd = await tempDir('gitops-cli-');
    const noUrl = await runCli(['handoff', model.reference, '--gitops', bare, '--key', keys.publicFile, '--skip-verify', '--check', '--plain-http', '--json'], { cwd, env: { MODELSHIP_HOME: `${cwd}/.modelship` } });
    expect(noUrl.json().error.code).toBe('GITOPS_MANIFEST_INVALID');
    expect(noUrl.json().error.message).toContain('--cluster-url');
    const run = await runCli(['handoff', model.reference, '--gitops', bare, '--cluster-url', 'ssh://git@example.com/gitops.git', '--key', keys.publicFile, '--skip-verify', '--check', '--plain-http', '--json'], { cwd, env: { MODELSHIP_HOME: `${cwd}/.modelship` } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json().manifests.map((m: { path: string }) => m.path)).toContain('models/tiny-chat/policy/dev/clusterpolicy.yaml');
    expect(run.json().versions).toEqual({ kserve: '0.20', kubernetes: '1.35', kyverno: '1.19', flux: '2.8' });
    const old = await runCli(['handoff', model.reference, '--gitops', bare, '--cluster-url', 'ssh://git@example.com/gitops.git', '--key', keys.publicFile, '--skip-verify', '--check', '--kyverno', '1.18', '--kserve', 'v0.15.2', '--plain-http', '--json'], { cwd });
    expect(old.code, old.stderr).toBe(0);
    const oldPolicy = parse(old.json().manifests.find((m: { path: string }) => m.path.endsWith('clusterpolicy.yaml')).text);
    expect(oldPolicy.spec.rules[0].verifyImages[0].type).toBe('Cosign');
    expect(old.json().versions).toMatchObject({ kyverno: '1.18', kserve: '0.15' });
    const badRelease = await runCli(['handoff', model.reference, '--gitops', bare, '--key', keys.publicFile, '--check', '--kyverno', 'latest', '--plain-http', '--json'], { cwd });
    expect(badRelease.code).toBe(2);
    expect(badRelease.json().error.message).toContain('--kyverno takes a release as MAJOR.MINOR');
    expect(await gitLog(bare).catch(() => [])).toEqual([]);
    const checkout = await tempDir('gitops-checkout-');
    await execa('git', ['init', '-q', checkout]);
    const workTree = await runCli(['handoff', model.reference, '--gitops', checkout, '--key', keys.publicFile, '--skip-verify', '--plain-http', '--json'], { cwd, env: { MODELSHIP_HOME: `${cwd}/.modelship` } });
    expect(workTree.code, workTree.stdout).toBe(2);
    expect(workTree.json().error.message).toContain('is a working tree');
    const local = await runCli(['handoff', 'oci:./layout:v1', '--gitops', bare, '--key', keys.publicFile, '--json'], { cwd, env: { MODELSHIP_HOME: `${cwd}/.modelship` } });
    expect(local.json().error.code).toBe('GITOPS_NOT_REMOTE');
    expect(local.code).toBe(2);
  });
});
