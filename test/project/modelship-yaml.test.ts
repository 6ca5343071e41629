import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelshipJsonSchema, parseModelshipYaml, renderModelshipYaml, schemaFilePath } from '../../modules/project/index.js';
import { hasCode } from '../../modules/errors/index.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const ctx = { file: '/proj/modelship.yaml', contextDir: '/proj' };

const FULL = `# yaml-language-server: $schema=./schemas/modelship.schema.json
name: tiny-llama
version: 1.0
description: A tiny llama for tests.
license: Apache-2.0
authors: [Ada, Grace]
model:
  architecture: llama
  format: gguf
  paramSize: 1.1B
  precision: fp16
  quantization: Q4_K_M
  capabilities:
    inputTypes: [text]
    outputTypes: [text]
    toolUsage: true
    languages: [en]
files:
  - path: extra/adapter.gguf
    kind: weight
    name: adapter
weights:
  - model.gguf
config:
  - tokenizer.json
docs:
  - README.md
  - path: LICENSE
    license: Apache-2.0
code: [src/]
datasets:
  - path: ./data
    description: training data
    license: CC-BY-4.0
ignore: ["*.tmp", checkpoints/]
pipeline:
  registry: 127.0.0.1:5000/models/tiny
  signing:
    method: key
    key: keys/model.key
  gitops:
    repository: https://git.example.test/ops.git
    flavor: flux
  modelRegistry:
    url: http://127.0.0.1:8080
  mof:
    require: 2
`;

function expectSpecError(text: string, ...patterns: RegExp[]) {
  try {
    parseModelshipYaml(text, ctx);
    expect.unreachable('parsed a bad modelship.yaml');
  } catch (err) {
    expect(hasCode(err, 'SPEC_INVALID')).toBe(true);
    for (const p of patterns) expect((err as Error).message).toMatch(p);
  }
}

describe('parseModelshipYaml', () => {
  let spec: ReturnType<typeof parseModelshipYaml>;
  beforeAll(() => {
    spec = parseModelshipYaml(FULL, ctx);
  });
  it('fills descriptor, config, files, ignore and pipeline', () => {
    expect(spec.descriptor).toEqual({ name: 'tiny-llama', version: '1.0', description: 'A tiny llama for tests.', authors: ['Ada', 'Grace'], licenses: ['Apache-2.0'] });
    expect(spec.config).toMatchObject({ architecture: 'llama', format: 'gguf', paramSize: '1.1B', precision: 'fp16', quantization: 'Q4_K_M' });
    expect(spec.config.capabilities).toEqual({ inputTypes: ['text'], outputTypes: ['text'], toolUsage: true, languages: ['en'] });
    expect(spec.files).toEqual([
      { kind: 'weight', path: 'extra/adapter.gguf', name: 'adapter' },
      { kind: 'weight', path: 'model.gguf' },
      { kind: 'weightConfig', path: 'tokenizer.json' },
      { kind: 'doc', path: 'README.md' },
      { kind: 'doc', path: 'LICENSE', license: 'Apache-2.0' },
      { kind: 'code', path: 'src' },
      { kind: 'dataset', path: 'data', description: 'training data', license: 'CC-BY-4.0' },
    ]);
    expect(spec.ignore).toEqual(['*.tmp', 'checkpoints/']);
    expect(spec.pipeline).toEqual({
      registry: '127.0.0.1:5000/models/tiny',
      signing: { method: 'key', key: 'keys/model.key' },
      gitops: { repository: 'https://git.example.test/ops.git', flavor: 'flux' },
      modelRegistry: { url: 'http://127.0.0.1:8080' },
      mof: { require: 2 },
    });
  });
  it('round-trips through renderModelshipYaml', () => {
    const text = renderModelshipYaml(spec, { schemaRef: './schemas/modelship.schema.json' });
    expect(text.startsWith('# yaml-language-server: $schema=./schemas/modelship.schema.json\n')).toBe(true);
    expect(text).toMatch(/^version: "1\.0"$/m);
    const again = parseModelshipYaml(text, ctx);
    const strip = (s: typeof spec) => ({ ...s, originalText: undefined, files: [...s.files].sort((a, b) => a.path.localeCompare(b.path)) });
    expect(strip(again)).toEqual(strip(spec));
  });
  it('accepts an empty file as an empty spec', () => {
    expect(parseModelshipYaml('', ctx).files).toEqual([]);
  });
});

describe('modelship.yaml errors', () => {
  it('an unknown key, with its line and the allowed keys', () => {
    expectSpecError('name: x\nmodle:\n  format: gguf\n', /^\/proj\/modelship\.yaml:2: unknown key "modle" in modelship\.yaml; allowed keys: name, version, /);
  });
  it('an unknown key deep in pipeline', () => {
    expectSpecError('pipeline:\n  signing:\n    methd: key\n', /modelship\.yaml:3: unknown key "pipeline\.signing\.methd".*allowed keys in pipeline\.signing: method, key, identity, issuer, notation/);
  });
  it('a paramSize outside the grammar', () => {
    expectSpecError('model:\n  paramSize: seven billion\n', /modelship\.yaml:2: model\.paramSize: wrong value, <number><Q\|T\|B\|M\|K>/);
  });
  it('a bad enum and a bad kind, both reported', () => {
    expectSpecError('files:\n  - path: a\n    kind: weights\npipeline:\n  mof:\n    require: 4\n', /modelship\.yaml:3: files\[0\]\.kind: wrong value, expected one of "weight"/, /modelship\.yaml:6: pipeline\.mof\.require/);
  });
  it('a misspelt key inside a shorthand entry names the entry, not "invalid input"', () => {
    expectSpecError('weights:\n  - paht: x.gguf\n', /modelship\.yaml:2: weights\[0\]\.path: is required, expected string/, /unknown key "weights\[0\]\.paht".*allowed keys in weights\[0\]: path, name, description, license/);
  });
  it('a missing kind, a modality ModelPack does not know and a MOF class as text', () => {
    expectSpecError('files:\n  - path: a\n', /modelship\.yaml:2: files\[0\]\.kind: is required, expected one of "weight"/);
    expectSpecError('model:\n  capabilities:\n    inputTypes: [txt]\n', /modelship\.yaml:3: model\.capabilities\.inputTypes\[0\]: wrong value, expected one of "text", "image"/);
    expectSpecError('model:\n  capabilities:\n    languages: [english]\n', /modelship\.yaml:3: model\.capabilities\.languages\[0\]: wrong value, a two-letter ISO 639-1 code/);
    expectSpecError('pipeline:\n  mof:\n    require: "2"\n', /modelship\.yaml:3: pipeline\.mof\.require: wrong value, expected one of 1, 2, 3/);
  });
  it('a duplicate key', () => {
    expectSpecError('name: a\nname: b\n', /modelship\.yaml:2: not valid YAML: Map keys must be unique/);
  });
  it('a path outside the project', () => {
    expectSpecError('weights:\n  - ok.gguf\n  - ../other/model.gguf\n', /modelship\.yaml:3: weights\[1\] "\.\.\/other\/model\.gguf" points outside/);
  });
});

describe('the published JSON Schema', () => {
  it('schemas/modelship.schema.json is the one generated from the zod schema', () => {
    const committed = JSON.parse(readFileSync(path.join(repoRoot, 'schemas', 'modelship.schema.json'), 'utf8'));
    // Regenerate with: npx tsx -e "import('./modules/project/modelship-yaml.ts').then(m=>require('fs').writeFileSync('schemas/modelship.schema.json', JSON.stringify(m.modelshipJsonSchema(),null,2)+'\n'))"
    expect(committed).toEqual(modelshipJsonSchema());
    expect(schemaFilePath('modelship.schema.json')).toBe(path.join(repoRoot, 'schemas', 'modelship.schema.json'));
  });
  it('accepts the full example and the docs example, and rejects a typo', () => {
    const ajv = new Ajv2020({ strict: false });
    const validate = ajv.compile(JSON.parse(readFileSync(path.join(repoRoot, 'schemas', 'modelship.schema.json'), 'utf8')));
    const full = parseYaml(FULL.replace('version: 1.0', 'version: "1.0"'));
    expect(validate(full), JSON.stringify(validate.errors)).toBe(true);
    const doc = readFileSync(path.join(repoRoot, 'docs', 'modelship-yaml.md'), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(doc)![1]!;
    expect(validate(parseYaml(example)), JSON.stringify(validate.errors)).toBe(true);
    expect(() => parseModelshipYaml(example, ctx)).not.toThrow();
    expect(validate({ ...full, weigths: ['x'] })).toBe(false);
  });
});
