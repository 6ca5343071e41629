/**
 * kubeconform 0.7.0 -strict judges every object the hand-off delivers (the kustomize builds of
 * overlays/ENV, policy/ and delivery/ENV, as Flux or Argo CD apply them) against JSON schemas made
 * from the vendored CRDs the way kubeconform's own scripts/openapi2jsonschema.py makes them.
 * Core kinds (the Secret holding cosign.pub) have no schema here: Kubernetes' schemas cannot be
 * downloaded, so they are skipped by name (-skip Secret), never with -ignore-missing-schemas, which
 * would also let a CRD kind with no schema through.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { parseAllDocuments, stringify } from 'yaml';
import { crdSchemas } from '../../scripts/extract-crd-schemas.mjs';
import { JUDGE_TEST_TIMEOUT, runJudge } from '../helpers/judges.js';
import { tempDir } from '../modelpack/helpers.js';
import { handoffTree, type HandoffTree } from './handoff-tree.js';

const registry = inject('registry');
const crdVectors = join(import.meta.dirname, '..', 'vectors', 'crds');

/**
 * kubeconform v0.7.0 scripts/openapi2jsonschema.py additional_properties, as it runs by default (root
 * left open: policy-controller's CRD schema lists only spec and status at its root): what -strict needs.
 */
function denyAdditionalProperties(node: unknown, root = true): unknown {
  if (Array.isArray(node)) return node.map((n) => denyAdditionalProperties(n, false));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = denyAdditionalProperties(v, false);
  if (!root && 'properties' in out && !('additionalProperties' in out)) out['additionalProperties'] = false;
  return out;
}

/** Schemas at <dir>/<group>/<kind>_<version>.json, for -schema-location '<dir>/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json' (kubeconform v0.7.0 pkg/registry/registry.go schemaPath: Group is the whole API group, ResourceKind lower case). */
async function schemasFromVendoredCrds(): Promise<string> {
  const dir = await tempDir('judge-kubeconform-schemas-');
  for (const vendor of await readdir(crdVectors, { withFileTypes: true })) {
    if (!vendor.isDirectory()) continue;
    for (const file of (await readdir(join(crdVectors, vendor.name))).filter((f) => f.endsWith('.yaml'))) {
      for (const [name, schema] of Object.entries(crdSchemas(await readFile(join(crdVectors, vendor.name, file), 'utf8')))) {
        const [group, kindVersion] = name.split('/') as [string, string];
        const target = join(dir, group, kindVersion.toLowerCase());
        await mkdir(join(target, '..'), { recursive: true });
        await writeFile(target, JSON.stringify(denyAdditionalProperties(schema)));
      }
    }
  }
  return dir;
}

/** What the cluster gets from the hand-off: each kustomization it applies, built. */
async function builtObjects(tree: HandoffTree): Promise<string> {
  const parts: string[] = [];
  for (const sub of [`overlays/${tree.env}`, `policy/${tree.env}`, `delivery/${tree.env}`]) {
    parts.push((await execa('kubectl', ['kustomize', join(tree.modelDir, sub)])).stdout);
  }
  return parts.join('\n---\n');
}

let schemas: string;
let fluxTree: Promise<HandoffTree> | undefined;
/** The Flux and Kyverno hand-off, made once for the tests that read it. */
const fluxHandoff = () => (fluxTree ??= handoffTree(registry, 'judges/kubeconform-flux'));
const kubeconform = (file: string, schemaDir = schemas) =>
  runJudge('kubeconform', ['-strict', '-summary', '-output', 'json', '-skip', 'Secret,Namespace', '-schema-location', `${schemaDir}/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json`, file]);

beforeAll(async () => {
  schemas = await schemasFromVendoredCrds();
});

interface Summary {
  resources: { kind: string; status: string; msg: string }[];
  summary: { valid: number; invalid: number; errors: number; skipped: number };
}

describe('kubeconform 0.7.0 -strict with the vendored CRDs judges the hand-off', { timeout: JUDGE_TEST_TIMEOUT }, () => {
  for (const [label, args] of [
    ['Flux delivery, Kyverno policy', []],
    ['Argo CD delivery, policy-controller policy', ['--argocd', '--policy', 'policy-controller']],
    ['Argo CD delivery, Kyverno policy, image volume', ['--argocd', '--mount', 'image-volume']],
  ] as const) {
    it(`accepts every object of the ${label}`, async () => {
      const tree = args.length ? await handoffTree(registry, `judges/kubeconform-${args.join('').replace(/[^a-z]/g, '')}`, [...args]) : await fluxHandoff();
      const file = join(tree.dir, 'built.yaml');
      const built = await builtObjects(tree);
      await writeFile(file, built);
      const run = await kubeconform(file);
      expect(run.exitCode, run.output).toBe(0);
      const result = JSON.parse(run.stdout) as Summary;
      expect(result.summary).toMatchObject({ invalid: 0, errors: 0 });
      expect(result.summary.valid).toBeGreaterThanOrEqual(5);
      // Only the core kinds (the Namespace, Flux's cosign.pub Secret) are skipped: every CRD kind was checked.
      const core = parseAllDocuments(built).map((d) => d.toJS()).filter((o) => o && ['Secret', 'Namespace'].includes(o.kind));
      expect(core.some((o) => o.kind === 'Namespace')).toBe(true);
      expect(result.summary.skipped).toBe(core.length);
    });
  }

  it('refuses an InferenceService with a field KServe does not define, and a replica count that is not a number', async () => {
    const tree = await fluxHandoff();
    const objects = parseAllDocuments(await builtObjects(tree)).map((d) => d.toJS());
    const isvc = objects.find((o) => o.kind === 'InferenceService');
    const unknownField = join(tree.dir, 'unknown-field.yaml');
    await writeFile(unknownField, stringify({ ...isvc, spec: { ...isvc.spec, predictor: { ...isvc.spec.predictor, storageUrl: 'oci://typo' } } }));
    const unknown = await kubeconform(unknownField);
    expect(unknown.exitCode).not.toBe(0);
    expect(unknown.output).toMatch(/additional properties 'storageUrl' not allowed/);
    const wrongType = join(tree.dir, 'wrong-type.yaml');
    await writeFile(wrongType, stringify({ ...isvc, spec: { ...isvc.spec, predictor: { ...isvc.spec.predictor, minReplicas: 'two' } } }));
    const typed = await kubeconform(wrongType);
    expect(typed.exitCode).not.toBe(0);
    expect(typed.output).toMatch(/minReplicas/);
    // A kind with no schema fails rather than passing: no -ignore-missing-schemas.
    const missing = await kubeconform(unknownField, await tempDir('judge-kubeconform-none-'));
    expect(missing.exitCode).not.toBe(0);
    expect(missing.output).toMatch(/could not find schema for InferenceService/);
  });
});
