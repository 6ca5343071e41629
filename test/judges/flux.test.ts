/**
 * The Flux CLI 2.8.3 builds the hand-off's delivery layout as kustomize-controller would:
 * `flux build kustomization --dry-run` (offline, no cluster) of each Flux Kustomization the hand-off
 * commits, from its own file and the committed folders; a layout with a file missing is refused.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { JUDGE_TEST_TIMEOUT, runJudge } from '../helpers/judges.js';
import { handoffTree, type HandoffTree } from './handoff-tree.js';

const registry = inject('registry');

let tree: HandoffTree;

beforeAll(async () => {
  tree = await handoffTree(registry, 'judges/flux');
}, 180_000);

/** flux build kustomization NAME --dry-run, with the Kustomization read from the committed delivery file. */
const fluxBuild = (name: string, path: string) =>
  runJudge('flux', ['build', 'kustomization', name, '--path', join(tree.modelDir, path), '--kustomization-file', join(tree.modelDir, 'delivery', tree.env, 'flux.yaml'), '--dry-run'], {
    env: { HOME: tree.dir, KUBECONFIG: join(tree.dir, 'no-kubeconfig') },
  });

describe('flux 2.8.3 build kustomization of the hand-off', { timeout: JUDGE_TEST_TIMEOUT }, () => {
  it('builds the model overlay into the target namespace, pinned to the digest', async () => {
    const run = await fluxBuild(`tiny-chat-${tree.env}`, `overlays/${tree.env}`);
    expect(run.exitCode, run.output).toBe(0);
    const objects = parseAllDocuments(run.stdout).map((d) => d.toJS()).filter(Boolean);
    expect(objects.map((o) => o.kind).sort()).toEqual(['InferenceService', 'ServingRuntime']);
    const isvc = objects.find((o) => o.kind === 'InferenceService');
    expect(isvc.metadata.namespace).toBe('models');
    expect(JSON.stringify(isvc.spec)).toContain(`@${tree.digest}`);
  });

  it('builds the admission policy Kustomization the model overlay depends on', async () => {
    const run = await fluxBuild('tiny-chat-policy', 'policy');
    expect(run.exitCode, run.output).toBe(0);
    expect(parseAllDocuments(run.stdout).map((d) => d.toJS()?.kind)).toContain('ClusterPolicy');
  });

  it('refuses a Kustomization the delivery file does not declare, and an overlay whose patch is missing', async () => {
    const unknown = await fluxBuild('tiny-chat-elsewhere', `overlays/${tree.env}`);
    expect(unknown.exitCode).not.toBe(0);
    expect(unknown.output).toMatch(/failed find kustomization with name 'tiny-chat-elsewhere'/);
    await rm(join(tree.modelDir, 'overlays', tree.env, 'inferenceservice-pin.yaml'));
    const broken = await fluxBuild(`tiny-chat-${tree.env}`, `overlays/${tree.env}`);
    expect(broken.exitCode).not.toBe(0);
    expect(broken.output).toMatch(/inferenceservice-pin\.yaml/);
  });
});
