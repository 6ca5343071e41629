/**
 * Tried as a new user would (issue 16, "Done when"): a weights-only GGUF project (a Modelfile with
 * `MODEL model.gguf` and `CONFIG config.json`) packed as a ModelCar, signed with a key, pushed, and
 * handed off with `--policy kyverno`, `--policy policy-controller` and `--argocd`, all from the CLI.
 * Each GitOps repository builds with `kubectl kustomize`; the signature each policy names is read
 * where that controller reads it (with the key the policy carries, checked here with node:crypto, not
 * with modelship's verifier); no local path is in any committed file or commit message.
 */
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { fetchManifest, fetchManifestBytes } from '../../modules/oci/manifest.js';
import { openReference } from '../../modules/oci/open.js';
import { referrers } from '../../modules/oci/referrers.js';
import { signatureTagOf } from '../../modules/oci/signature-tag.js';
import type { ImageManifest, ReadOnlyTarget } from '../../modules/oci/types.js';
import { runCli } from '../helpers/cli.js';
import { busyboxBase } from '../modelpack/busybox.js';
import { tempDir } from '../modelpack/helpers.js';
import { LLAMA_METADATA, writeGguf } from '../project/gguf-fixture.js';
import { argoWave, kyvernoWildcardMatch, policyControllerGlobMatch, policyControllerPodImages, policyControllerWebhookActs } from './consumer-rules.js';
import { bareRepository } from './helpers.js';
import { kustomizeBuild, type K8sObject } from './kustomize.js';

const registry = inject('registry');
const CLUSTER_URL = 'https://github.com/acme/gitops.git';
/** cosign v3 (pkg/cosign/bundle): the bundle referrer's artifactType and the image-signature predicate. */
const BUNDLE_ARTIFACT_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

let work: string;
let home: string;
let reference: string;
let target: ReadOnlyTarget;
let publicPem: string;

const cli = (args: string[]) => runCli(args, { env: { MODELSHIP_HOME: home, HOME: work }, cwd: work });
async function must(args: string[]) {
  const res = await cli(args);
  if (res.code !== 0) throw new Error(`modelship ${args.join(' ')} failed (${res.code}): ${res.stderr}${res.stdout}`);
  return res;
}

beforeAll(async () => {
  work = await tempDir('new-user-');
  home = join(work, 'home');
  const project = join(work, 'weights-only');
  await mkdir(project);
  await writeGguf(join(project, 'model.gguf'), { metadata: LLAMA_METADATA });
  await writeFile(join(project, 'config.json'), '{"context_length": 2048}\n');
  await writeFile(join(project, 'Modelfile'), 'MODEL model.gguf\nCONFIG config.json\n');
  const base = await busyboxBase();
  reference = `${registry}/new-user/weights-only:v1`;
  await must(['pack', project, '-t', reference, '--modelcar', '--modelcar-base', `oci:${base.location}:latest`]);
  await must(['keys', 'generate', '-o', join(work, 'cosign')]);
  await must(['sign', reference, '--key', join(work, 'cosign.key')]);
  await must(['push', reference, '--plain-http']);
  const opened = await openReference(reference, { cwd: work, env: {}, plainHttp: true });
  target = opened.target;
  publicPem = await readFile(join(work, 'cosign.pub'), 'utf8');
}, 180_000);

interface HandedOff {
  bare: string;
  /** The repository's files, checked out. */
  tree: string;
  files: string[];
  /** Every object, by the kustomization folder that built it. */
  built: Map<string, K8sObject[]>;
}

/** `modelship handoff` as the user types it, then every kustomization built from a checkout of what was pushed. */
async function handOff(flags: string[]): Promise<HandedOff> {
  const bare = await bareRepository();
  const run = await cli(['handoff', reference, '--gitops', bare, '--cluster-url', CLUSTER_URL, '--key', join(work, 'cosign.pub'), '--plain-http', ...flags, '--json']);
  expect(run.code, run.stderr + run.stdout).toBe(0);
  const tree = await tempDir('new-user-tree-');
  await execa('sh', ['-c', `git --git-dir "${bare}" archive main | tar -x -C "${tree}"`]);
  const files = (await execa('git', ['--git-dir', bare, 'ls-tree', '-r', '--name-only', 'main'])).stdout.split('\n').filter(Boolean);
  const folders = files.filter((f) => f === 'kustomization.yaml' || f.endsWith('/kustomization.yaml')).map((f) => f.replace(/\/?kustomization\.yaml$/, '') || '.');
  expect(folders.length).toBeGreaterThan(0);
  const built = new Map<string, K8sObject[]>();
  for (const folder of folders) built.set(folder, await kustomizeBuild(tree, folder));
  return { bare, tree, files, built };
}

const everything = (h: HandedOff) => [...h.built.values()].flat();
const ofKind = (h: HandedOff, kind: string) => everything(h).filter((o) => o.kind === kind);

/** What the Pod runs: the storageUri's image, as KServe's ModelCar sidecar and init container name it. */
function modelImage(h: HandedOff): { image: string; repository: string; digest: string } {
  // The base leaves storageUri to the environment's overlay, which pins the digest.
  const uris = new Set(ofKind(h, 'InferenceService').map((o) => o.spec.predictor.model.storageUri as string | undefined).filter((u): u is string => u !== undefined));
  expect(uris.size, [...uris].join(', ')).toBe(1);
  const image = [...uris][0]!.replace(/^oci:\/\//, '');
  const [repository, digest] = image.split('@') as [string, string];
  expect(repository).toBe(`${registry}/new-user/weights-only`);
  return { image, repository, digest: digest! };
}

/** No local path of this machine in any file or commit message: the temporary folders, $HOME, MODELSHIP_HOME. */
async function expectNoLocalPath(h: HandedOff): Promise<void> {
  const history = (await execa('git', ['--git-dir', h.bare, 'log', '-p', '--format=%B', 'main'])).stdout;
  for (const local of [work, home, homedir(), `${tmpdir()}/`, '/tmp/', '.modelship', 'registry.sqlite', 'embedded:', 'file://']) {
    expect(history.includes(local), `${local} appears in the GitOps repository`).toBe(false);
  }
}

/** The public key a policy carries, as PEM. */
const keyObject = (pem: string) => createPublicKey(pem.trim());

/**
 * The cosign simple signature where policy-controller v0.15.1 reads it for a key authority
 * (cosign pkg/cosign/verify.go VerifyImageSignatures: ociremote.SignatureTag(digest) in the image's
 * repository, then each layer's `dev.cosignproject.cosign/signature` over the payload, whose
 * critical.image.docker-manifest-digest must be the digest).
 */
async function expectSimpleSignature(digest: string, pem: string): Promise<void> {
  const sig = await target.resolve(signatureTagOf(digest));
  const manifest = (await fetchManifest(target, sig, signatureTagOf(digest))) as ImageManifest;
  const verified = [];
  for (const layer of manifest.layers.filter((l) => l.mediaType === 'application/vnd.dev.cosign.simplesigning.v1+json')) {
    const payload = await fetchManifestBytes(target, layer, 'payload');
    const claim = JSON.parse(new TextDecoder().decode(payload)) as { critical: { image: { 'docker-manifest-digest': string }; type: string } };
    const signature = Buffer.from(layer.annotations?.['dev.cosignproject.cosign/signature'] ?? '', 'base64');
    if (claim.critical.image['docker-manifest-digest'] === digest && claim.critical.type === 'cosign container image signature' && verifySignature('sha256', payload, keyObject(pem), signature)) verified.push(layer);
  }
  expect(verified.length, `a simple signature of ${digest} under ${signatureTagOf(digest)} that the policy's key verifies`).toBeGreaterThan(0);
}

/**
 * The cosign v3 bundle where Kyverno 1.19 (`type: SigstoreBundle`, pkg/image/verifiers/cpol/cosign)
 * and source-controller 1.8 read it: an OCI referrer of the digest with the bundle artifactType, whose
 * DSSE envelope (PAE, sigstore-go) the key verifies over an in-toto statement naming that digest.
 */
async function expectBundle(digest: string, pem: string): Promise<void> {
  const subject = await target.resolve(digest);
  const found = [];
  for (const referrer of await referrers(target, subject, BUNDLE_ARTIFACT_TYPE)) {
    const manifest = (await fetchManifest(target, referrer, 'referrer')) as ImageManifest;
    const bundle = JSON.parse(new TextDecoder().decode(await fetchManifestBytes(target, manifest.layers[0]!, 'bundle'))) as {
      dsseEnvelope?: { payload: string; payloadType: string; signatures: { sig: string }[] };
    };
    const envelope = bundle.dsseEnvelope;
    if (!envelope) continue;
    const body = Buffer.from(envelope.payload, 'base64');
    const statement = JSON.parse(body.toString()) as { predicateType: string; subject: { digest: Record<string, string> }[] };
    const pae = Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(envelope.payloadType)} ${envelope.payloadType} ${body.length} `), body]);
    const names = statement.subject.some((s) => `sha256:${s.digest['sha256']}` === digest);
    if (names && statement.predicateType === COSIGN_SIGN_PREDICATE && envelope.signatures.some((s) => verifySignature('sha256', pae, keyObject(pem), Buffer.from(s.sig, 'base64')))) found.push(referrer);
  }
  expect(found.length, `a cosign image-signature bundle referring to ${digest} that the policy's key verifies`).toBeGreaterThan(0);
}

describe('a new user hands off a weights-only GGUF ModelCar', () => {
  it('--policy kyverno: Kyverno finds the bundle on the Pod\'s digest, Flux on the digest it pins', async () => {
    const h = await handOff(['--policy', 'kyverno']);
    const { image, digest } = modelImage(h);
    const policies = ofKind(h, 'ClusterPolicy');
    expect(policies).toHaveLength(1);
    const entries = (policies[0]!.spec.rules as { verifyImages?: { imageReferences: string[]; type?: string; attestors: { entries: { keys?: { publicKeys: string } }[] }[] }[] }[]).flatMap((r) => r.verifyImages ?? []);
    const entry = entries.find((e) => e.imageReferences.some((p) => kyvernoWildcardMatch(p, image)));
    expect(entry, JSON.stringify(entries)).toBeDefined();
    expect(entry!.type).toBe('SigstoreBundle');
    await expectBundle(digest, entry!.attestors[0]!.entries[0]!.keys!.publicKeys);

    // Flux (the default delivery): source-controller verifies the digest its OCIRepository pins, with the key in the Secret it names.
    const repos = ofKind(h, 'OCIRepository');
    expect(repos.length).toBeGreaterThan(0);
    for (const repo of repos) {
      expect(repo.spec.verify?.provider).toBe('cosign');
      // source-controller v1.8.0 internal/oci/cosign: every `*.pub` key of the Secret, in the OCIRepository's namespace.
      const secret = everything(h).find((o) => o.kind === 'Secret' && o.metadata.name === repo.spec.verify.secretRef.name && o.metadata.namespace === repo.metadata.namespace) as (K8sObject & { data: Record<string, string> }) | undefined;
      expect(secret, repo.spec.verify.secretRef.name).toBeDefined();
      const pem = Buffer.from(secret!.data['cosign.pub']!, 'base64').toString();
      expect(pem.trim()).toBe(publicPem.trim());
      await expectBundle(repo.spec.ref.digest, pem);
    }
    await expectNoLocalPath(h);
  }, 120_000);

  it('--policy policy-controller: the .sig signature is on the Pod\'s digest, in the namespace the webhook acts on', async () => {
    const h = await handOff(['--policy', 'policy-controller']);
    const { image, digest } = modelImage(h);
    const policies = ofKind(h, 'ClusterImagePolicy');
    expect(policies).toHaveLength(1);
    const cip = policies[0]!;
    expect((cip.spec.images as { glob: string }[]).some((i) => policyControllerGlobMatch(i.glob, image))).toBe(true);
    const authority = (cip.spec.authorities as { key?: { data: string }; signatureFormat?: string }[])[0]!;
    expect(authority.signatureFormat).toBeUndefined();
    await expectSimpleSignature(digest, authority.key!.data);
    const isvc = ofKind(h, 'InferenceService').find((o) => o.spec.predictor.model.storageUri)!;
    const namespace = ofKind(h, 'Namespace').find((n) => n.metadata.name === isvc.metadata.namespace);
    expect(policyControllerWebhookActs(namespace)).toBe(true);
    // The ModelCar runs as containers (init and sidecar), which policy-controller checks; an image volume it would not.
    expect(policyControllerPodImages({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { initContainers: [{ image }], containers: [{ image }] } })).toContain(image);
    await expectNoLocalPath(h);
  }, 120_000);

  it('--argocd: the Applications clone the cluster URL, the policy syncs before the model, and Kyverno finds its bundle', async () => {
    const h = await handOff(['--argocd']);
    const { image, digest } = modelImage(h);
    const apps = ofKind(h, 'Application');
    expect(apps.length).toBeGreaterThan(0);
    for (const app of apps) {
      const sources = (app.spec.source ? [app.spec.source] : app.spec.sources) as { repoURL: string; path: string }[];
      for (const s of sources) {
        expect(s.repoURL).toBe(CLUSTER_URL);
        // gitops-engine pkg/sync/syncwaves orders the objects of one Application: the policy's wave before the model's.
        const synced = h.built.get(s.path);
        expect(synced, s.path).toBeDefined();
        const policyWave = Math.max(...synced!.filter((o) => o.kind === 'ClusterPolicy').map(argoWave));
        const modelWave = Math.min(...synced!.filter((o) => o.kind === 'InferenceService').map(argoWave));
        expect(policyWave).toBeLessThan(modelWave);
      }
    }
    const policy = ofKind(h, 'ClusterPolicy')[0]!;
    const entry = (policy.spec.rules as { verifyImages?: { imageReferences: string[]; attestors: { entries: { keys?: { publicKeys: string } }[] }[] }[] }[]).flatMap((r) => r.verifyImages ?? [])
      .find((e) => e.imageReferences.some((p) => kyvernoWildcardMatch(p, image)));
    await expectBundle(digest, entry!.attestors[0]!.entries[0]!.keys!.publicKeys);
    expect(ofKind(h, 'OCIRepository')).toEqual([]);
    await expectNoLocalPath(h);
  }, 120_000);
});
