import { describe, expect, it } from 'vitest';
import { parseModelfile } from '../../modules/project/index.js';
import { hasCode } from '../../modules/errors/index.js';

const ctx = { file: '/proj/Modelfile', contextDir: '/proj' };

// modctl's own example from its getting-started guide.
const MODCTL_EXAMPLE = `# Model name (string), such as llama3-8b-instruct, gpt2-xl, qwen2-vl-72b-instruct, etc.
NAME gemma-2b

# Model architecture (string), such as transformer, cnn, rnn, etc.
ARCH transformer

FAMILY gemma
FORMAT safetensors
PARAMSIZE 16
PRECISION bf16
QUANTIZATION awq

CONFIG config.json
CONFIG generation_config.json
MODEL *.safetensors
CODE *.py
DOC *.md
`;

function expectSpecError(text: string, ...patterns: RegExp[]) {
  try {
    parseModelfile(text, ctx);
    expect.unreachable('parsed a bad Modelfile');
  } catch (err) {
    expect(hasCode(err, 'SPEC_INVALID')).toBe(true);
    for (const p of patterns) expect((err as Error).message).toMatch(p);
  }
}

describe('parseModelfile', () => {
  it("reads modctl's example", () => {
    const spec = parseModelfile(MODCTL_EXAMPLE, ctx);
    expect(spec.source.format).toBe('modelfile');
    expect(spec.descriptor).toEqual({ name: 'gemma-2b', family: 'gemma' });
    expect(spec.config).toEqual({ architecture: 'transformer', format: 'safetensors', paramSize: '16', precision: 'bf16', quantization: 'awq' });
    expect(spec.files).toEqual([
      { kind: 'weightConfig', path: 'config.json' },
      { kind: 'weightConfig', path: 'generation_config.json' },
      { kind: 'weight', path: '*.safetensors' },
      { kind: 'code', path: '*.py' },
      { kind: 'doc', path: '*.md' },
    ]);
    expect(spec.originalText).toBe(MODCTL_EXAMPLE);
  });
  it('takes directives in any case, values with spaces, and parameter counts', () => {
    const spec = parseModelfile('name  My Model  \nparamsize 7241732096\r\nmodel ./weights/\nDataset data/*.csv\n', ctx);
    expect(spec.descriptor.name).toBe('My Model');
    expect(spec.config.paramSize).toBe('7.2B');
    expect(spec.files).toEqual([{ kind: 'weight', path: 'weights' }, { kind: 'dataset', path: 'data/*.csv' }]);
  });
  it('keeps a paramSize that already has a unit', () => {
    expect(parseModelfile('PARAMSIZE 8B\n', ctx).config.paramSize).toBe('8B');
  });
});

describe('Modelfile errors name the line and directive', () => {
  it('an unknown directive, listing the allowed ones', () => {
    expectSpecError('NAME x\n\n# c\nWEIGHTS *.gguf\n', /^\/proj\/Modelfile:4: unknown directive "WEIGHTS"; allowed directives: CONFIG, MODEL, CODE, DATASET, DOC, NAME, ARCH, FAMILY, FORMAT, PARAMSIZE, PRECISION, QUANTIZATION$/);
  });
  it('a directive without a value', () => {
    expectSpecError('NAME x\nMODEL\n', /Modelfile:2: MODEL needs a value/);
  });
  it('a value directive given twice', () => {
    expectSpecError('NAME a\nARCH b\nname c\n', /Modelfile:3: NAME is already set at line 1/);
  });
  it('a PARAMSIZE that is neither a count nor a size', () => {
    expectSpecError('NAME x\nPARAMSIZE seven billion\n', /Modelfile:2: PARAMSIZE "seven billion" is neither a parameter count nor <number><Q\|T\|B\|M\|K>/);
  });
  it('a path outside the project', () => {
    expectSpecError('MODEL ../../etc/passwd\n', /Modelfile:1: MODEL path "\.\.\/\.\.\/etc\/passwd" points outside/);
    expectSpecError('CODE /abs/path.py\n', /Modelfile:1: CODE path "\/abs\/path\.py" is absolute/);
  });
});
