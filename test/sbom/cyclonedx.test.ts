import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildCycloneDx,
  readCycloneDx,
  sbomInputFromProject,
  serializeSbom,
  validateCycloneDx,
  type SbomInput,
} from '../../modules/sbom/index.js';
import { hasCode } from '../../modules/errors/index.js';
import { chatProject, codeProject, safetensorsProject, type Project } from './fixtures.js';
import { vectorPath } from '../helpers/vectors.js';

const artifact = {
  reference: '127.0.0.1:5000/team/tiny-chat:1.0.0',
  digest: 'sha256:' + '1f'.repeat(32),
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  registry: { host: '127.0.0.1:5000', repository: 'team/tiny-chat', tag: '1.0.0' },
};

type Component = Record<string, any>;
const allComponents = (bom: Record<string, any>): Component[] => {
  const out: Component[] = [];
  const visit = (c: Component) => {
    out.push(c);
    (c.components ?? []).forEach(visit);
  };
  (bom.components ?? []).forEach(visit);
  return out;
};

describe('CycloneDX 1.6: GGUF chat model', () => {
  let p: Project;
  let input: SbomInput;
  let bom: Record<string, any>;
  beforeAll(async () => {
    p = await chatProject();
    input = { ...(await sbomInputFromProject(p.dir, p.spec)), artifact };
    bom = buildCycloneDx(input);
  });
  afterAll(() => p.cleanup());

  it('validates against bom-1.6.schema.json', () => {
    expect(validateCycloneDx(bom)).toEqual([]);
    expect(bom.specVersion).toBe('1.6');
    expect(bom.serialNumber).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('describes the model with an exact OCI purl and the artifact as its distribution', () => {
    const model = bom.metadata.component;
    expect(model.type).toBe('machine-learning-model');
    expect(model.purl).toBe(`pkg:oci/tiny-chat@sha256%3A${'1f'.repeat(32)}?repository_url=127.0.0.1:5000/team/tiny-chat&tag=1.0.0`);
    expect(model['bom-ref']).toBe(model.purl);
    expect(model.hashes).toEqual([{ alg: 'SHA-256', content: '1f'.repeat(32) }]);
    // An absolute URI pinned to the digest, not the reference as typed.
    expect(model.externalReferences[0]).toMatchObject({ type: 'distribution', url: `oci://127.0.0.1:5000/team/tiny-chat@${artifact.digest}` });
    expect(model.licenses).toEqual([{ license: { id: 'Apache-2.0' } }]);
    expect(bom.metadata.tools.components[0]).toMatchObject({ name: 'modelship' });
  });

  it('fills the model card from the config, README and evaluation results', () => {
    const card = bom.metadata.component.modelCard;
    expect(card.modelParameters).toMatchObject({
      task: 'text-generation',
      architectureFamily: 'llama',
      modelArchitecture: 'llama',
      inputs: [{ format: 'text' }],
      outputs: [{ format: 'text' }],
    });
    // eval_results.json wins over the README's model-index
    expect(card.quantitativeAnalysis.performanceMetrics).toEqual([
      { type: 'acc_norm', value: '0.55', slice: 'text-generation / hellaswag' },
      { type: 'acc', value: '0.61', slice: 'text-generation / arc_easy' },
    ]);
    expect(card.considerations.useCases).toEqual(['Local assistants on laptops', 'Teaching how chat models work']);
    expect(card.considerations.technicalLimitations).toContain('English and French only');
    expect(card.considerations.ethicalConsiderations).toEqual([{ name: 'The model can repeat biases found in web text.' }]);
    // The dataset the card names becomes a data component the card refers to.
    const data = allComponents(bom).find((c) => c.type === 'data');
    expect(data?.name).toBe('OpenAssistant/oasst1');
    expect(card.modelParameters.datasets).toEqual([{ ref: data!['bom-ref'] }]);
  });

  it('lists every file with the SHA-256 of its bytes', () => {
    const files = allComponents(bom).filter((c) => c.type === 'file');
    expect(files.map((f) => f.name).sort()).toEqual(['README.md', 'eval_results.json', 'tiny-chat.Q4_K_M.gguf']);
    for (const f of files) expect(f.hashes).toEqual([{ alg: 'SHA-256', content: p.digests[f.name] }]);
  });

  it('reads back through readCycloneDx', () => {
    const view = readCycloneDx(new TextDecoder().decode(serializeSbom(bom)));
    expect(view.subject?.type).toBe('machine-learning-model');
    expect(view.modelCards).toHaveLength(1);
    expect(view.modelCards[0]!.task).toBe('text-generation');
    expect(view.modelCards[0]!.considerations.technicalLimitations).toHaveLength(2);
  });

  it('is deterministic: same input, same bytes; time only when asked', () => {
    const again = serializeSbom(buildCycloneDx(structuredClone(input)));
    expect(Buffer.from(again).equals(Buffer.from(serializeSbom(bom)))).toBe(true);
    expect(bom.metadata.timestamp).toBeUndefined();
    const timed = buildCycloneDx({ ...input, timestamp: '2026-01-02T03:04:05.678Z' });
    expect(timed.metadata).toMatchObject({ timestamp: '2026-01-02T03:04:05Z' });
    expect(timed.serialNumber).toBe(bom.serialNumber);
    const other = buildCycloneDx({ ...input, artifact: { ...artifact, digest: 'sha256:' + '2e'.repeat(32) } });
    expect(other.serialNumber).not.toBe(bom.serialNumber);
  });
});

describe('CycloneDX 1.6: safetensors model with two datasets', () => {
  let p: Project;
  let bom: Record<string, any>;
  beforeAll(async () => {
    p = await safetensorsProject();
    bom = buildCycloneDx(await sbomInputFromProject(p.dir, p.spec));
  });
  afterAll(() => p.cleanup());

  it('validates and records each dataset as a data component with its licence and files', () => {
    expect(validateCycloneDx(bom)).toEqual([]);
    const data = bom.components.filter((c: Component) => c.type === 'data');
    expect(data.map((d: Component) => d.name)).toEqual(['reviews-train', 'reviews-test']);
    expect(data[0].licenses).toEqual([{ license: { id: 'CC-BY-4.0' } }]);
    expect(data[1].licenses).toEqual([{ expression: 'CC-BY-SA-4.0 OR MIT' }]);
    expect(data[0].data).toEqual([{ type: 'dataset', name: 'reviews-train' }]);
    expect(data[0].hashes).toEqual([{ alg: 'SHA-256', content: p.digests['data/train/reviews.csv'] }]);
    expect(data[1].components.map((c: Component) => c.name)).toEqual(['data/test/reviews.csv']);
    expect(bom.metadata.component.modelCard.modelParameters.datasets).toEqual(data.map((d: Component) => ({ ref: d['bom-ref'] })));
  });

  it('handles a non-SPDX licence next to an SPDX id without inventing an id', () => {
    expect(bom.metadata.component.licenses).toEqual([{ license: { id: 'MIT' } }, { license: { name: 'llama3.1' } }]);
    expect(bom.metadata.component.purl).toBeUndefined();
  });
});

describe('CycloneDX 1.6: code with lock files', () => {
  let p: Project;
  let bom: Record<string, any>;
  beforeAll(async () => {
    p = await codeProject();
    bom = buildCycloneDx(await sbomInputFromProject(p.dir, p.spec));
  });
  afterAll(() => p.cleanup());

  it('validates and gives libraries exact purls, scopes and a dependency graph', () => {
    expect(validateCycloneDx(bom)).toEqual([]);
    const libs = new Map<string, Component>(bom.components.filter((c: Component) => c.type === 'library').map((c: Component) => [c.purl, c]));
    expect([...libs.keys()]).toEqual(
      expect.arrayContaining([
        'pkg:npm/%40huggingface/transformers@3.0.2',
        'pkg:npm/express@4.19.2',
        'pkg:npm/onnxruntime-node@1.19.2',
        'pkg:npm/vitest@1.6.0',
        'pkg:pypi/torch@2.3.1',
        'pkg:pypi/transformers',
        'pkg:pypi/numpy@1.26.4',
        'pkg:pypi/accelerate@0.30.0',
        'pkg:pypi/pillow@10.3.0',
        'pkg:pypi/zope-interface@6.4',
        'pkg:pypi/requests@2.31.0',
        'pkg:pypi/fastapi@0.111.0',
        'pkg:pypi/pydantic@2.7.1',
        'pkg:pypi/starlette@0.37.2',
        'pkg:pypi/uvicorn@0.29.0',
      ]),
    );
    expect([...libs.keys()].some((k) => k.includes('git'))).toBe(false);
    expect(libs.get('pkg:npm/%40huggingface/transformers@3.0.2')).toMatchObject({ group: '@huggingface', name: 'transformers', scope: 'required' });
    expect(libs.get('pkg:npm/vitest@1.6.0')!.scope).toBe('optional');
    expect(libs.get('pkg:pypi/accelerate@0.30.0')!.scope).toBe('optional');
    expect(libs.get('pkg:pypi/torch@2.3.1')!.hashes).toEqual([{ alg: 'SHA-256', content: 'a'.repeat(64) }]);
    expect(libs.get('pkg:npm/express@4.19.2')!.hashes[0].alg).toBe('SHA-512');
    const edges = new Map<string, string[]>(bom.dependencies.map((d: { ref: string; dependsOn?: string[] }) => [d.ref, d.dependsOn ?? []]));
    expect(edges.get('pkg:pypi/fastapi@0.111.0')).toEqual(['pkg:pypi/pydantic@2.7.1', 'pkg:pypi/starlette@0.37.2']);
    expect(edges.get('pkg:npm/%40huggingface/transformers@3.0.2')).toEqual(['pkg:npm/onnxruntime-node@1.19.2']);
    const direct = edges.get(bom.metadata.component['bom-ref'])!;
    expect(direct).toContain('pkg:pypi/torch@2.3.1');
    expect(direct).not.toContain('pkg:pypi/starlette@0.37.2');
  });
});

describe('CycloneDX from digests alone', () => {
  it('never reads a file whose digest is given', () => {
    const bom = buildCycloneDx({
      spec: { descriptor: { name: 'ghost' }, config: {}, files: [] },
      files: [{ path: 'weights/not-on-disk.gguf', kind: 'weight', size: 123, sha256: '9'.repeat(64) }],
    });
    expect(validateCycloneDx(bom)).toEqual([]);
    expect(bom.components).toEqual([expect.objectContaining({ name: 'weights/not-on-disk.gguf', hashes: [{ alg: 'SHA-256', content: '9'.repeat(64) }] })]);
  });
});

describe('sbomInputFromProject with known digests', () => {
  it('uses the digests it is given instead of reading those files', async () => {
    const p = await chatProject();
    try {
      const fake = { path: 'tiny-chat.Q4_K_M.gguf', kind: 'weight' as const, size: 1, sha256: '7'.repeat(64) };
      const ghost = { path: 'shards/not-on-disk.gguf', kind: 'weight' as const, size: 2, sha256: '8'.repeat(64) };
      const input = await sbomInputFromProject(p.dir, p.spec, { known: [fake, ghost] });
      expect(input.files.find((f) => f.path === fake.path)!.sha256).toBe('7'.repeat(64));
      expect(input.files.find((f) => f.path === ghost.path)!.sha256).toBe('8'.repeat(64));
      expect(input.files.find((f) => f.path === 'README.md')!.sha256).toBe(p.digests['README.md']);
      expect(validateCycloneDx(buildCycloneDx(input))).toEqual([]);
    } finally {
      await p.cleanup();
    }
  });
});

describe('validateCycloneDx and readCycloneDx', () => {
  const dir = vectorPath('cyclonedx');
  const examples = readdirSync(dir).filter((f) => f.endsWith('.json'));

  it('finds the official examples', () => expect(examples.length).toBeGreaterThanOrEqual(8));

  it.each(examples)('accepts and reads the official example %s', (name) => {
    const json = readFileSync(path.join(dir, name), 'utf8');
    expect(validateCycloneDx(JSON.parse(json))).toEqual([]);
    const view = readCycloneDx(json);
    expect(view.specVersion).toBe('1.6');
    if (name.startsWith('valid-machine-learning')) {
      expect(view.modelCards.length).toBeGreaterThan(0);
      expect(view.components.some((c) => c.type === 'machine-learning-model')).toBe(true);
    }
  });

  it('reads the official ML example card fields', () => {
    const view = readCycloneDx(readFileSync(path.join(dir, 'valid-machine-learning-1.6.json'), 'utf8'));
    const card = view.modelCards[0]!;
    expect(card.componentName).toBe('stable-diffusion');
    expect(card.approach).toBe('supervised');
    expect(card.inputs).toEqual(['string']);
    expect(card.performanceMetrics[0]!.type).toBe('The type of performance metric');
  });

  it('reports bad hashes, unknown fields and dangling dependency refs with their paths', () => {
    expect(validateCycloneDx({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [{ type: 'file', name: 'x', hashes: [{ alg: 'SHA-256', content: 'zz' }] }] })).toEqual([
      expect.objectContaining({ path: '/components/0/hashes/0/content' }),
    ]);
    expect(validateCycloneDx({ bomFormat: 'CycloneDX', specVersion: '1.6', bogus: 1 })[0]!.message).toContain('bogus');
    expect(
      validateCycloneDx({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [{ type: 'library', name: 'a', 'bom-ref': 'a' }], dependencies: [{ ref: 'a', dependsOn: ['missing'] }] }),
    ).toEqual([{ path: '/dependencies/0/dependsOn/0', message: '"missing" is not the bom-ref of any component' }]);
    let caught: unknown;
    try {
      readCycloneDx('{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"nope","name":"x"}]}', 'bom.json');
    } catch (err) {
      caught = err;
    }
    expect(hasCode(caught, 'SBOM_INVALID')).toBe(true);
    expect((caught as Error).message).toContain('bom.json');
    expect((caught as Error).message).toContain('/components/0/type');
  });
});
