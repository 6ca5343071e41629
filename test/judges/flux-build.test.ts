/**
 * Flux's own build library judges the delivery layout the hand-off commits: flux-build
 * (test/judges/flux-build, on github.com/fluxcd/pkg/kustomize v1.41.0) runs kustomize-controller
 * v1.8's build sequence (internal/controller/kustomization_controller.go: generate, SecureBuild
 * restricted to the repository root, postBuild) for every Flux Kustomization the entry point
 * delivery/ENV declares, with the checkout as the GitRepository artifact. Each must build, and the
 * model's holds the InferenceService at the pinned digest and its Namespace, the policy's the
 * admission policy; a tree with a file missing, or reaching outside the repository, is refused.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, inject, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { JUDGE_TEST_TIMEOUT, runJudge } from '../helpers/judges.js';
import { handoffTree, type HandoffTree } from './handoff-tree.js';

const registry = inject('registry');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;
const objects = (yaml: string): Obj[] => parseAllDocuments(yaml).map((d) => d.toJS()).filter(Boolean);

/** What `kubectl apply -k delivery/ENV` applies once: the entry point that declares the Flux Kustomizations. */
async function entryPoint(tree: HandoffTree): Promise<string> {
  const file = join(dirname(tree.dir), `entry-${tree.env}.yaml`);
  await writeFile(file, (await execa('kubectl', ['kustomize', join(tree.modelDir, 'delivery', tree.env)])).stdout);
  return file;
}

const fluxBuild = (tree: HandoffTree, file: string, name?: string) =>
  runJudge('flux-build', ['--root', tree.dir, '--kustomization', file, ...(name ? ['--name', name] : [])]);

/** Builds each of the entry point's Kustomizations alone; a failure shows what the judge said. */
async function buildEach(tree: HandoffTree, file: string): Promise<Map<string, Obj[]>> {
  const kustomizations = objects(await readFile(file, 'utf8')).filter((o) => o.kind === 'Kustomization' && o.apiVersion === 'kustomize.toolkit.fluxcd.io/v1');
  const built = new Map<string, Obj[]>();
  for (const k of kustomizations) {
    const run = await fluxBuild(tree, file, k.metadata.name);
    expect(run.exitCode, `${k.metadata.name}: ${run.output}`).toBe(0);
    built.set(k.metadata.name, objects(run.stdout));
  }
  return built;
}

describe('Flux build (fluxcd/pkg/kustomize v1.41.0, kustomize-controller v1.8 sequence) judges the delivery layout', { timeout: JUDGE_TEST_TIMEOUT }, () => {
  for (const [label, args, env] of [
    ['Kyverno policy, dev', [], 'dev'],
    ['policy-controller policy, prod', ['--policy', 'policy-controller'], 'prod'],
  ] as const) {
    it(`builds every Kustomization of the ${label} hand-off, with the model at its digest and the policy`, async () => {
      const tree = await handoffTree(registry, `judges/flux-build-${env}`, [...args], env);
      const entry = await entryPoint(tree);
      const built = await buildEach(tree, entry);
      const n = `tiny-chat-${env}`;
      expect([...built.keys()].sort()).toEqual([n, `${n}-delivery`, `${n}-policy`]);

      // The model's Kustomization: the InferenceService pinned to the signed digest, in its Namespace (spec.targetNamespace applied).
      const model = built.get(n)!;
      const isvc = model.find((o) => o.kind === 'InferenceService');
      expect(isvc.spec.predictor.model.storageUri).toContain(`@${tree.digest}`);
      const namespace = model.find((o) => o.kind === 'Namespace');
      expect(namespace).toBeDefined();
      expect(isvc.metadata.namespace).toBe(namespace.metadata.name);

      // The policy's Kustomization: the admission policy that checks the signature.
      const policy = built.get(`${n}-policy`)!;
      expect(policy.map((o) => o.kind)).toContain(args.length ? 'ClusterImagePolicy' : 'ClusterPolicy');

      // The entry point reconciles itself: Flux's build of delivery/ENV gives back the same Kustomizations.
      const delivery = built.get(`${n}-delivery`)!;
      const asApplied = objects(await readFile(entry, 'utf8'));
      const names = (list: Obj[]) => list.map((o) => `${o.kind}/${o.metadata.name}`).sort();
      expect(names(delivery)).toEqual(names(asApplied));
      // The signature check reads the Secret the entry point generates, under the name Flux's build gives it.
      const source = delivery.find((o) => o.kind === 'OCIRepository');
      expect(delivery.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name)).toContain(source.spec.verify.secretRef.name);
      // Flux's source is pinned too: the ModelPack manifest inside the ModelCar index (docs/outer-loop.md).
      expect(source.spec.ref.digest).toMatch(/^sha256:[0-9a-f]{64}$/);

      // Every Kustomization at once, as the judge is run by hand.
      const all = await fluxBuild(tree, entry);
      expect(all.exitCode, all.output).toBe(0);
      expect(objects(all.stdout).length).toBe(model.length + policy.length + delivery.length);
    });
  }

  it('refuses a tree with a file the hand-off writes missing, a resource outside the repository, or a path that is not there', async () => {
    const tree = await handoffTree(registry, 'judges/flux-build-tampered');
    const entry = await entryPoint(tree);
    const n = 'tiny-chat-dev';
    const overlay = join(tree.modelDir, 'overlays', 'dev', 'kustomization.yaml');
    const original = await readFile(overlay, 'utf8');

    // A resource outside the repository root: kustomize with Flux's load restrictions (none) builds it; Flux's secure file system refuses it.
    const outside = join(dirname(tree.dir), 'outside.yaml');
    await writeFile(outside, stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'outside' } }));
    const k = parse(original);
    // By absolute path: the controller builds a copy of the artifact elsewhere, where a relative path would name another file.
    await writeFile(overlay, stringify({ ...k, resources: [...(k.resources ?? []), outside] }));
    await execa('kubectl', ['kustomize', '--load-restrictor', 'LoadRestrictionsNone', dirname(overlay)]);
    const escaped = await fluxBuild(tree, entry, n);
    expect(escaped.exitCode).not.toBe(0);
    expect(escaped.output).toMatch(/kustomize build failed/);
    expect(escaped.output).toContain(`path '${outside}' is not in or below '${tree.dir}'`);
    await writeFile(overlay, original);
    expect((await fluxBuild(tree, entry, n)).exitCode).toBe(0);

    // A file the base declares, removed.
    const base = join(tree.modelDir, 'base');
    const baseK = parse(await readFile(join(base, 'kustomization.yaml'), 'utf8'));
    const removed = (baseK.resources as string[])[0]!;
    await rm(join(base, removed));
    const missing = await fluxBuild(tree, entry, n);
    expect(missing.exitCode).not.toBe(0);
    expect(missing.output).toMatch(/kustomize build failed/);
    expect(missing.output).toContain(removed);

    // A Kustomization whose spec.path is not in the repository.
    const moved = join(dirname(tree.dir), 'moved.yaml');
    await writeFile(moved, (await readFile(entry, 'utf8')).replace(`path: ./models/tiny-chat/policy/dev`, 'path: ./models/tiny-chat/policy/staging'));
    const noPath = await fluxBuild(tree, moved, `${n}-policy`);
    expect(noPath.exitCode).not.toBe(0);
    expect(noPath.output).toMatch(/kustomization path not found/);
  });
});
