/**
 * MOF components derived from real project folders, evaluated as the MOT would.
 */
import { describe, expect, it } from 'vitest';
import { componentsOfFile, deriveMof, parseMotYaml, classifyMot, readProject, scanProject } from '../../modules/card/index.js';
import { hasCode } from '../../modules/errors/index.js';
import { makeProject } from './projects.js';

describe('deriveMof', () => {
  it('a project with weights, architecture, report, results and both cards under Apache-2.0 is Class III', async () => {
    const view = await readProject(await makeProject('class3'), { date: '2026-01-01' });
    const e = view.mof.evaluation;
    expect(e.class).toBe(3);
    expect(e.progress['3']).toBe(100);
    expect(view.mof.components.map((c) => c.name).sort()).toEqual(
      ['Data card', 'Evaluation results', 'Model architecture', 'Model card', 'Model parameters (Final)', 'Technical report'].sort());
    // The README's "license: apache-2.0" is the declared licence, mapped to SPDX.
    for (const c of view.mof.components) expect(c, c.name).toMatchObject({ license: 'Apache-2.0', licenseFrom: 'README.md:2 front matter "license"' });
    // Apache-2.0 is a code/document licence: on weights the MOT counts it with a warning.
    expect(e.notTypeAppropriate).toContain('Model parameters (Final)');
    expect(view.mof.toAdd.map((m) => m.name)).toContain('Training code');
  });

  it('without a data card it is not Class III, and says what to add', async () => {
    const view = await readProject(await makeProject('no-data-card'));
    expect(view.mof.evaluation.class).toBe(0);
    expect(view.mof.evaluation.progress['3']).toBeCloseTo(83.333, 2);
    const dataCard = view.mof.toAdd.find((m) => m.name === 'Data card');
    expect(dataCard).toMatchObject({ class: 3, reason: 'absent' });
    expect(dataCard!.hint).toMatch(/DATACARD\.md/);
  });

  it('a project that releases everything, with CC-BY-4.0 data, is Class I', async () => {
    const view = await readProject(await makeProject('class1'));
    expect(view.mof.evaluation.class).toBe(1);
    expect(view.mof.evaluation.progress).toEqual({ '1': 100, '2': 100, '3': 100 });
    const datasets = view.mof.components.find((c) => c.name === 'Datasets')!;
    expect(datasets).toMatchObject({ license: 'CC-BY-4.0', licenseFrom: 'data/LICENSE', files: ['data/train.jsonl'] });
    expect(view.mof.components.find((c) => c.name === 'Evaluation data')!.files).toEqual(['eval/data/test.jsonl']);
    expect(view.mof.components.find((c) => c.name === 'Model parameters (Intermediate)')!.files).toEqual(['checkpoints/step-1000/model.safetensors']);
    expect(view.mof.toAdd).toEqual([]);
  });

  it('a Llama-licensed model is not open: the licence is reported, not a missing part', async () => {
    const view = await readProject(await makeProject('llama'));
    expect(view.facts.licenses).toEqual(['llama3.1']);
    expect(view.mof.evaluation.class).toBe(0);
    expect(view.mof.evaluation.invalid['3']).toContain('Model parameters (Final)');
    const weights = view.mof.toAdd.find((m) => m.name === 'Model parameters (Final)')!;
    expect(weights.reason).toBe('not open');
    expect(weights.hint).toContain('LicenseRef-llama3.1');
  });

  it('writes a MOT YAML the MOT reader takes back with the same verdict', async () => {
    const view = await readProject(await makeProject('class1'), { date: '2026-01-01' });
    expect(view.mof.motYaml).toContain("date: '2026-01-01'");
    const again = classifyMot(parseMotYaml(view.mof.motYaml, 'mot.yaml'));
    expect(again.class).toBe(view.mof.evaluation.class);
    expect(again.progress).toEqual(view.mof.evaluation.progress);
  });

  it('an unknown licence id is an error naming the id and where it was declared', async () => {
    const facts = await scanProject(await makeProject('class3'));
    facts.licenses = ['Apache2'];
    facts.licensesSource = 'modelship.yaml:3 license';
    let err: unknown;
    try {
      deriveMof(facts);
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, 'CARD_LICENSE_UNKNOWN')).toBe(true);
    expect((err as Error).message).toMatch(/modelship\.yaml:3 license: unknown license id "Apache2".*LicenseRef-/);
  });
});

describe('componentsOfFile', () => {
  it.each([
    ['model.gguf', undefined, ['Model parameters (Final)']],
    ['checkpoints/step-500/pytorch_model.bin', undefined, ['Model parameters (Intermediate)']],
    ['modeling_llama.py', undefined, ['Model architecture']],
    ['scripts/finetune_lora.py', undefined, ['Training code']],
    ['serve.py', undefined, ['Inference code']],
    ['eval/run_eval.py', undefined, ['Evaluation code']],
    ['data/prepare.py', undefined, ['Data preprocessing code']],
    ['trainer_state.json', undefined, ['Model metadata']],
    ['results/eval_results.yaml', undefined, ['Evaluation results']],
    ['data/README.md', undefined, ['Data card']],
    ['docs/arxiv-paper.pdf', undefined, ['Research paper']],
    ['samples/outputs.md', undefined, ['Sample model outputs']],
    ['corpus.parquet', 'dataset', ['Datasets']],
    ['LICENSE', undefined, []],
  ] as const)('%s (kind %s)', (p, kind, want) => {
    expect(componentsOfFile({ path: p, size: 1, ...(kind ? { kind } : {}) })).toEqual(want);
  });
});
