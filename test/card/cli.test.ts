/**
 * `modelship mof` and `modelship card` through the real CLI entry point, with captured streams:
 * exit statuses (the gate's 9), JSON still printed on a failed gate, and clear errors.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { parseCard, unfilledSections } from '../../modules/card/index.js';
import { makeProject } from './projects.js';
import { vectorPath } from '../helpers/vectors.js';

const MOF = vectorPath('mof');

function run(argv: string[], cwd = process.cwd()): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(argv, { cwd, env: { CI: '1' } });
}

describe('modelship mof', () => {
  it('--require 3 passes (exit 0) on a Class III project', async () => {
    const dir = await makeProject('class3');
    const r = await run(['mof', dir, '--require', '3', '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ class: 3, gate: { require: 3, passed: true } });
  });

  it('--require 3 fails with exit 9 without a data card, and still prints the JSON with what is missing', async () => {
    const dir = await makeProject('no-data-card');
    const r = await run(['mof', dir, '--require', '3', '--json']);
    expect(r.code).toBe(9);
    const json = JSON.parse(r.stdout);
    expect(json.gate).toEqual({ require: 3, passed: false, code: 'GATE_FAILED' });
    expect(json.toAdd.map((m: { name: string }) => m.name)).toContain('Data card');
  });

  it('--require 1 fails on a Class III project; text output lists the missing components', async () => {
    const dir = await makeProject('class3');
    const r = await run(['mof', dir, '--require', '1']);
    expect(r.code).toBe(9);
    expect(r.stdout).toMatch(/gate failed \(GATE_FAILED\).*Class I; missing: .*Training code/);
    expect(r.stdout).toContain('Datasets (Class I)');
  });

  it('Class I meets --require 2', async () => {
    expect((await run(['mof', await makeProject('class1'), '--require', '2'])).code).toBe(0);
  });

  it('-o writes the MOT YAML, which mof classify reads back to the same class', async () => {
    const dir = await makeProject('class1');
    const out = path.join(await mkdtemp(path.join(tmpdir(), 'modelship-mot-')), 'mot.yaml');
    expect((await run(['mof', dir, '-o', out, '--date', '2026-01-01'])).code).toBe(0);
    const yaml = parse(await readFile(out, 'utf8'));
    expect(yaml.release.date).toBe('2026-01-01');
    const r = await run(['mof', 'classify', out, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ class: 1, progress: { '1': 100, '2': 100, '3': 100 } });
  });

  it('classify prints the MOT verdict for a real model file', async () => {
    const r = await run(['mof', 'classify', path.join(MOF, 'models', 'Granite-4.0-Micro.yml'), '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ class: 3, label: 'Class III - Open Model', progress: { '1': 0, '2': 60, '3': 100 }, notTypeAppropriate: ['Model parameters (Final)'] });
  });

  it('an unknown component name exits 3 naming it, the file and line', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'modelship-mot-bad-'));
    const file = path.join(dir, 'bad.yml');
    await writeFile(file, 'framework: {name: Model Openness Framework, version: "1.0"}\nrelease:\n  name: x\n  license: {}\n  components:\n    - name: Weights\n');
    const r = await run(['mof', 'classify', file]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${file}:6: unknown MOF component "Weights"`);
    expect(r.stderr).toContain('valid names: Datasets, Data preprocessing code');
  });

  it('without --require, modelship.yaml pipeline.mof.require is the gate', async () => {
    const dir = await makeProject('no-data-card');
    await writeFile(path.join(dir, 'modelship.yaml'), 'name: tiny\nlicense: Apache-2.0\nweights:\n  - model.safetensors\npipeline:\n  mof:\n    require: 3\n');
    const r = await run(['mof', dir, '--json']);
    expect(r.code).toBe(9);
    expect(JSON.parse(r.stdout).gate).toMatchObject({ require: 3, passed: false });
  });

  it('--require must be 1, 2 or 3 (usage error, exit 2)', async () => {
    const r = await run(['mof', await makeProject('class3'), '--require', '4']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--require takes 1, 2 or 3');
  });
});

describe('modelship card', () => {
  it('writes README.md, DATACARD.md, the badge and HTML, filled from the project', async () => {
    const dir = await makeProject('class3');
    const out = await mkdtemp(path.join(tmpdir(), 'modelship-cards-'));
    const r = await run(['card', dir, '-o', out, '--html', '--json']);
    expect(r.code).toBe(0);
    const readme = await readFile(path.join(out, 'README.md'), 'utf8');
    const card = parseCard(readme, 'README.md');
    // The existing README's front matter is kept; the project fills the rest.
    expect(card.frontMatter).toMatchObject({ license: 'apache-2.0', language: ['en'], base_model: 'none', library_name: 'transformers' });
    expect(card.frontMatter['model-index']).toBeDefined();
    expect(readme).toContain('![Class III - Open Model](mof-badge.svg)');
    expect(unfilledSections(readme)).toContain('what the model is meant to be used for, and by whom');
    const badge = await readFile(path.join(out, 'mof-badge.svg'), 'utf8');
    expect(badge).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(badge).toContain('>Class III<');
    const html = await readFile(path.join(out, 'card.html'), 'utf8');
    expect(html).toContain('<!DOCTYPE html>');
    expect(html).not.toMatch(/<script|src="http/);
    expect(html).toContain('&lt;!-- modelship: fill in:');
    const datacard = parseCard(await readFile(path.join(out, 'DATACARD.md'), 'utf8'), 'DATACARD.md');
    expect(datacard.frontMatter['pretty_name']).toBeDefined();
    expect(JSON.parse(r.stdout).mof.class).toBe(3);
  });

  it('the model-index comes from eval_results.json (lm-evaluation-harness output)', async () => {
    const dir = await makeProject('no-data-card');
    await writeFile(path.join(dir, 'README.md'), '# plain readme\n');
    const out = await mkdtemp(path.join(tmpdir(), 'modelship-cards-'));
    expect((await run(['card', dir, '-o', out])).code).toBe(0);
    const fm = parseCard(await readFile(path.join(out, 'README.md'), 'utf8'), 'README.md').frontMatter;
    expect(fm['model-index']).toEqual([{ name: expect.any(String), results: [{ task: { name: 'hellaswag' }, dataset: { name: 'hellaswag', type: 'hellaswag' }, metrics: [{ type: 'acc', value: 0.41 }] }] }]);
    expect(fm['license']).toBe('apache-2.0');
  });

  it('does not overwrite an existing README without --force (exit 3), and does with it', async () => {
    const dir = await makeProject('class3');
    const before = await readFile(path.join(dir, 'README.md'), 'utf8');
    const r = await run(['card', dir]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${path.join(dir, 'README.md')} already exists`);
    expect(r.stderr).toContain('--force');
    expect(await readFile(path.join(dir, 'README.md'), 'utf8')).toBe(before);
    expect((await run(['card', dir, '--force'])).code).toBe(0);
    expect(await readFile(path.join(dir, 'README.md'), 'utf8')).toContain('## Model openness (MOF)');
  });

  it('broken front matter in the existing README is an error with file and line', async () => {
    const dir = await makeProject('class3');
    await writeFile(path.join(dir, 'README.md'), '---\nlicense: mit\nlanguage: [en\ntags: x\n---\n# t\n');
    const r = await run(['card', dir, '-o', await mkdtemp(path.join(tmpdir(), 'modelship-cards-'))]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`${path.join(dir, 'README.md').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:[34]: front matter is not valid YAML`));
  });

  it('an unknown licence id in the spec is an error naming it and suggesting SPDX or LicenseRef-', async () => {
    const dir = await makeProject('class3');
    await writeFile(path.join(dir, 'modelship.yaml'), 'name: tiny\nlicense: Apache2\nweights:\n  - model.safetensors\n');
    const r = await run(['card', dir, '-o', await mkdtemp(path.join(tmpdir(), 'modelship-cards-'))]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('modelship.yaml:2 license: unknown license id "Apache2"');
    expect(r.stderr).toContain('LicenseRef-');
  });
});
