/** Real models in the real test registry, signed with real keys, and real bare git repositories. */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { packModel, readArtifact, type ModelCarBase } from '../../modules/modelpack/index.js';
import { copy, LayoutTarget, openReference, type Descriptor, type Target } from '../../modules/oci/index.js';
import { generateSigningKeyPair } from '../../modules/sign/index.js';
import { signArtifact } from '../../modules/sign/artifact/index.js';
import { busyboxBase } from '../modelpack/busybox.js';
import { bytesOf, specFor, tempDir, writeTree } from '../modelpack/helpers.js';

export interface SigningKeys {
  privateKey: KeyObject;
  publicPem: string;
  /** The public key written to a file, for --key. */
  publicFile: string;
}

export async function signingKeys(): Promise<SigningKeys> {
  const pair = generateSigningKeyPair();
  const publicFile = join(await tempDir('gitops-key-'), 'cosign.pub');
  await writeFile(publicFile, pair.publicKeyPem);
  return { privateKey: createPrivateKey(pair.privateKeyPem), publicPem: pair.publicKeyPem, publicFile };
}

export interface PushedModel {
  /** HOST/REPO:TAG */
  reference: string;
  registry: string;
  repository: string;
  tag: string;
  target: Target;
  /** What the tag resolves to: the ModelCar index, or the manifest. */
  pulled: Descriptor;
  /** The ModelPack manifest (inside the index for a ModelCar). */
  manifest: Descriptor;
}

/** Pack a small GGUF or safetensors model (optionally with its ModelCar view) and push it to the registry. */
export async function pushModel(registry: string, opts: { format: 'gguf' | 'safetensors'; modelcar: boolean; repository: string; tag?: string; seed?: number; base?: ModelCarBase }): Promise<PushedModel> {
  const src = await tempDir('gitops-model-');
  const seed = opts.seed ?? 7;
  const weight = opts.format === 'gguf' ? 'tiny-chat.gguf' : 'model.safetensors';
  await writeTree(src, { [weight]: bytesOf(50_000, seed), 'README.md': '# tiny chat\n', 'LICENSE': 'Apache License 2.0\n' });
  const layout = new LayoutTarget(join(await tempDir('gitops-layout-'), 'layout'));
  const tag = opts.tag ?? 'v1';
  const spec = specFor(src, [{ kind: 'weight', path: weight }, { kind: 'doc', path: 'README.md' }, { kind: 'doc', path: 'LICENSE' }], {
    descriptor: { name: 'tiny-chat', version: '1.0' },
    config: { architecture: 'llama', format: opts.format, paramSize: '1M' },
  });
  const packed = await packModel(spec, layout, { tag, layerFormat: 'tar', ...(opts.modelcar ? { modelcar: opts.base ?? { target: await busyboxBase(), reference: 'latest' } } : {}) });
  const reference = `${registry}/${opts.repository}:${tag}`;
  const opened = await openReference(reference, { cwd: src, env: {}, plainHttp: true });
  await copy(layout, tag, opened.target, tag);
  return { reference, registry, repository: opts.repository, tag, target: opened.target, pulled: await opened.target.resolve(tag), manifest: packed.descriptor };
}

/** `modelship sign` on the artifact: model signature and cosign image signature on the ModelPack manifest. */
export async function signModel(model: PushedModel, keys: SigningKeys): Promise<void> {
  await signArtifact(model.target, model.tag, { kind: 'key', privateKey: keys.privateKey }, { repository: model.repository, attestDocuments: false });
}

/** Signs only the ModelPack manifest inside a ModelCar, by its digest: the index the cluster pulls stays unsigned. */
export async function signModelManifestOnly(model: PushedModel, keys: SigningKeys): Promise<void> {
  const view = await readArtifact(model.target, model.tag);
  await signArtifact(model.target, view.descriptor.digest, { kind: 'key', privateKey: keys.privateKey }, { repository: model.repository, attestDocuments: false });
}

export async function bareRepository(name = 'gitops.git'): Promise<string> {
  const dir = join(await tempDir('gitops-remote-'), name);
  await execa('git', ['init', '-q', '--bare', '-b', 'main', dir]);
  return dir;
}

export async function gitLog(bare: string, branch = 'main'): Promise<string[]> {
  const { stdout } = await execa('git', ['--git-dir', bare, 'log', '--format=%H %s', branch]);
  return stdout.split('\n').filter(Boolean);
}

export async function gitShow(bare: string, path: string, branch = 'main'): Promise<string> {
  const { stdout } = await execa('git', ['--git-dir', bare, 'show', `${branch}:${path}`]);
  return stdout;
}
