/**
 * Our MOF evaluation against the Model Openness Tool's own: every test file in the MOT's
 * test_data with the class and progress its expected_results.json records, and the real models.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { classifyMot, parseMotYaml } from '../../modules/card/index.js';
import { hasCode } from '../../modules/errors/index.js';
import { vectorPath } from '../helpers/vectors.js';

const MOF = vectorPath('mof');
const TEST_DATA = path.join(MOF, 'test_data');

interface Expected { class: number; progress: Record<'1' | '2' | '3', number> }

// The MOT's export has trailing commas; YAML flow mappings accept them.
const expected = new Map<string, Expected>(
  (parse(readFileSync(path.join(TEST_DATA, 'expected_results.json'), 'utf8')) as { models: { release: { name: string }; classification: Expected }[] })
    .models.map((m) => [m.release.name, m.classification]),
);
const testFiles = readdirSync(TEST_DATA).filter((f) => f.endsWith('.yml')).sort();

describe('MOT test_data', () => {
  it('has an expected result for every test file (matched by release name)', () => {
    expect(testFiles.length).toBe(27);
    for (const f of testFiles) expect(expected.has(parseMotYaml(readFileSync(path.join(TEST_DATA, f), 'utf8'), f).release.name), f).toBe(true);
  });

  it.each(testFiles)('%s gives the class and progress the MOT computed', (file) => {
    const text = readFileSync(path.join(TEST_DATA, file), 'utf8');
    const result = classifyMot(text, file);
    const want = expected.get(parseMotYaml(text, file).release.name)!;
    expect({ class: result.class, progress: result.progress }).toEqual({ class: want.class, progress: want.progress });
  });

  it('all 27 match, listing any mismatch', () => {
    const mismatches = testFiles.flatMap((file) => {
      const text = readFileSync(path.join(TEST_DATA, file), 'utf8');
      const got = classifyMot(text, file);
      const want = expected.get(parseMotYaml(text, file).release.name)!;
      const same = got.class === want.class && (['1', '2', '3'] as const).every((k) => got.progress[k] === want.progress[k]);
      return same ? [] : [`${file}: got class ${got.class} ${JSON.stringify(got.progress)}, MOT ${want.class} ${JSON.stringify(want.progress)}`];
    });
    expect(mismatches).toEqual([]);
  });
});

describe('real models as the MOT rates them', () => {
  // Class and Class III progress under the MOT evaluator (ModelEvaluator.php): OLMo, Pythia and Amber
  // release everything openly (Class I); Granite is an Open Model; Llama, Gemma and GPT-4 are not open.
  const table: [string, number, number][] = [
    ['Amber.yml', 1, 100], ['BLOOM.yml', 0, 33.33333333333333], ['CrystalCoder.yml', 0, 33.33333333333333],
    ['DeepSeek-R1.yml', 0, 83.33333333333334], ['Falcon-40B.yml', 0, 0], ['GPT-4.yml', 0, 0],
    ['Granite-4.0-Micro.yml', 3, 100], ['Granite-8B-Code-Instruct.yml', 3, 100], ['Llama-2-7B.yml', 0, 0],
    ['Llama-3.1-8B.yml', 0, 0], ['Mistral-7B-v0.1.yml', 0, 33.33333333333333], ['Mixtral-8x7B-v0.1.yml', 0, 83.33333333333334],
    ['OLMo-7B.yml', 1, 100], ['Phi-2.yml', 0, 16.666666666666664], ['Pythia-6.9B.yml', 1, 100],
    ['Qwen2.5-7B.yml', 0, 33.33333333333333], ['Stable-Diffusion.yml', 0, 0], ['gemma-2-9b-it.yml', 0, 16.666666666666664],
    ['gpt-oss-20b.yml', 0, 83.33333333333334],
  ];

  it('covers every model file', () => {
    expect(readdirSync(path.join(MOF, 'models')).sort()).toEqual(table.map(([f]) => f).sort());
  });

  it.each(table)('%s is class %i with Class III progress %d', (file, cls, p3) => {
    const r = classifyMot(readFileSync(path.join(MOF, 'models', file), 'utf8'), file);
    expect(r.class).toBe(cls);
    expect(r.progress['3']).toBe(p3);
  });

  it('explains why Llama 3.1 is not open: its licence, not missing parts', () => {
    const r = classifyMot(readFileSync(path.join(MOF, 'models', 'Llama-3.1-8B.yml'), 'utf8'));
    expect(r.invalid['3']).toContain('Model parameters (Final)');
    expect(r.licenses['Model parameters (Final)']).toBe('Llama 3.1 Community License Agreement');
    expect(r.missing['3']).toEqual(['Data card']);
  });

  it('warns where an open licence is not type-appropriate (MIT on weights) and still counts it', () => {
    const r = classifyMot(readFileSync(path.join(MOF, 'models', 'gpt-oss-20b.yml'), 'utf8'));
    expect(r.notTypeAppropriate).toContain('Model parameters (Final)');
    expect(r.invalid['3']).not.toContain('Model parameters (Final)');
  });
});

describe('MOT rules', () => {
  const base = (components: string) => `framework: {name: Model Openness Framework, version: '1.0', date: '2024-12-15'}
release:
  name: t
  producer: p
  license: {distribution: {name: Apache-2.0}}
  components:
${components}`;
  const c3 = ['Model architecture', 'Model parameters (Final)', 'Evaluation results', 'Model card', 'Data card'];

  it('a research paper stands in for the technical report at Class III', () => {
    const r = classifyMot(base([...c3, 'Research paper'].map((n) => `  - name: ${n}`).join('\n')));
    expect(r.class).toBe(3);
    expect(r.missing['3']).toEqual([]);
  });

  it('"unlicensed" does not fall back to the release licence', () => {
    const r = classifyMot(base([...c3, 'Technical report'].map((n) => `  - name: ${n}${n === 'Data card' ? '\n    license: unlicensed' : ''}`).join('\n')));
    expect(r.class).toBe(0);
    expect(r.unlicensed['3']).toEqual(['Data card']);
  });

  it('a lower class scores 0 until every higher class is complete', () => {
    const r = classifyMot(base(['Model architecture', 'Training code', 'Inference code', 'Datasets'].map((n) => `  - name: ${n}`).join('\n')));
    expect(r.progress).toEqual({ '1': 0, '2': 0, '3': (1 / 6) * 100 });
  });
});

describe('bad MOT files', () => {
  it('an unknown component names itself, the file and line, and lists the valid names', () => {
    const text = 'framework: {name: Model Openness Framework, version: "1.0"}\nrelease:\n  name: x\n  license: {}\n  components:\n    - name: Model card\n    - name: Model weights\n';
    let err: unknown;
    try {
      classifyMot(text, 'bad.yml');
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, 'MOF_INVALID')).toBe(true);
    const message = (err as Error).message;
    expect(message).toContain('bad.yml:7');
    expect(message).toContain('"Model weights"');
    expect(message).toContain('Model parameters (Final)');
    expect(message).toContain('Sample model outputs');
  });

  it('broken YAML gives the line', () => {
    expect(() => classifyMot('release:\n  name: [unclosed\n', 'broken.yml')).toThrow(/broken\.yml:\d+: not valid YAML/);
  });

  it('a file without release.name is refused', () => {
    expect(() => classifyMot('framework: {}\nrelease:\n  components: []\n', 'empty.yml')).toThrow(/release\.name is missing/);
  });
});
