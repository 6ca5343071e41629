import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { classifyFile, createIgnoreMatcher, parseKitfile } from '../../modules/project/index.js';
import { hasCode } from '../../modules/errors/index.js';
import { vectorPath } from '../helpers/vectors.js';

const interop = vectorPath('kitops');
const ctx = { file: '/proj/Kitfile', contextDir: '/proj' };

function expectSpecError(fn: () => unknown, ...patterns: RegExp[]) {
  try {
    fn();
    expect.unreachable('parsed a bad Kitfile');
  } catch (err) {
    expect(hasCode(err, 'SPEC_INVALID')).toBe(true);
    for (const p of patterns) expect((err as Error).message).toMatch(p);
  }
}

describe('the upstream example Kitfile', () => {
  const text = readFileSync(vectorPath('kitops', 'Kitfile.example.yaml'), 'utf8');
  const spec = () => parseKitfile(text, ctx);
  it('maps package and model onto the descriptor, keeping 1.0 and 1.2.3 as text', () => {
    expect(spec().source).toEqual({ format: 'kitfile', file: '/proj/Kitfile' });
    expect(spec().descriptor).toEqual({
      name: 'AIProjectName',
      version: '1.2.3',
      description: 'A brief description of the AI/ML project.',
      authors: ['Author Name', 'Contributor Name'],
      licenses: ['Apache-2.0'],
    });
    expect(spec().config.format).toBe('tensorflow');
    expect(spec().originalText).toBe(text);
  });
  it('maps each section to a file kind', () => {
    expect(spec().files).toEqual([
      { kind: 'weight', path: 'models/model.h5', name: 'ModelName', license: 'Apache-2.0', description: 'Model description.' },
      { kind: 'code', path: 'src', description: 'Source code for the AI models.', license: 'Apache-2.0' },
      { kind: 'dataset', path: 'data/dataset.csv', name: 'DatasetName', description: 'Description of the dataset.', license: 'CC-BY-4.0' },
      { kind: 'doc', path: 'system.prompt.md', description: 'System prompt for the LLM.' },
      { kind: 'code', path: 'filesystem.mcpb', name: 'filesystem', description: 'MCP server providing filesystem access.' },
    ]);
  });
});

describe('YAML scalars keep their source text', () => {
  it('version: 1.0 stays "1.0" (manifestVersion, package and model)', () => {
    const spec = parseKitfile('manifestVersion: 1.0\nmodel:\n  version: 1.0\n  path: m.gguf\n', ctx);
    expect(spec.descriptor.version).toBe('1.0');
    const pkg = parseKitfile('manifestVersion: 1.0\npackage:\n  version: 2.10\n  name: 007\n', ctx);
    expect(pkg.descriptor.version).toBe('2.10');
    expect(pkg.descriptor.name).toBe('007');
  });
});

describe('errors name the file, line and field', () => {
  it('an unknown top-level key, with the allowed keys', () => {
    expectSpecError(
      () => parseKitfile('manifestVersion: 1.0.0\npackage:\n  name: x\nmodels:\n  path: m\n', ctx),
      /^\/proj\/Kitfile:4: unknown key "models"/,
      /allowed keys: manifestVersion, package, model, code, datasets, docs, prompts, mcpServers/,
    );
  });
  it('an unknown nested key, with the keys allowed there', () => {
    expectSpecError(
      () => parseKitfile('manifestVersion: 1.0.0\nmodel:\n  path: m\n  parts:\n    - path: a\n      kind: lora\n', ctx),
      /Kitfile:6: unknown key "model\.parts\[0\]\.kind"/,
      /allowed keys in model\.parts\[0\]: name, path, license, type, digest, diffId/,
    );
  });
  it('a missing manifestVersion', () => {
    expectSpecError(() => parseKitfile('package:\n  name: x\n', ctx), /manifestVersion: is required, expected string/);
  });
  it('a list where a map belongs', () => {
    expectSpecError(() => parseKitfile('manifestVersion: 1\npackage:\n  - name: x\n', ctx), /Kitfile:3: package: wrong value, expected object/);
  });
  it('an absolute or escaping path', () => {
    expectSpecError(() => parseKitfile('manifestVersion: 1\ncode:\n  - path: /etc\n', ctx), /Kitfile:3: code\[0\]\.path "\/etc" is absolute/);
    expectSpecError(() => parseKitfile('manifestVersion: 1\ndocs:\n  - path: ../x\n', ctx), /Kitfile:3: docs\[0\]\.path "\.\.\/x" points outside/);
  });
  it('the same path twice', () => {
    expectSpecError(() => parseKitfile('manifestVersion: 1\ncode:\n  - path: ./src/\ndocs:\n  - path: src\n', ctx), /Kitfile:5: docs\[0\]\.path "src" is already listed at code\[0\]\.path/);
  });
  it('broken YAML', () => {
    expectSpecError(() => parseKitfile('manifestVersion: 1\npackage: [a\n', ctx), /^\/proj\/Kitfile:\d+: not valid YAML/);
  });
  it('a bad part type', () => {
    expectSpecError(() => parseKitfile('manifestVersion: 1\nmodel:\n  parts:\n    - path: a\n      type: "-bad"\n', ctx), /Kitfile:5: model\.parts\[0\]\.type/);
  });
});

describe('model parts', () => {
  it('are weights unless their type says configuration', () => {
    const spec = parseKitfile('manifestVersion: 1\nmodel:\n  path: base.gguf\n  parts:\n    - path: lora.gguf\n      type: lora\n    - path: tok.json\n      type: tokenizer\n', ctx);
    expect(spec.files.map((f) => [f.path, f.kind])).toEqual([['base.gguf', 'weight'], ['lora.gguf', 'weight'], ['tok.json', 'weightConfig']]);
  });
});

const cases = readdirSync(interop).filter((f) => f.endsWith('.yaml'));
const packCases = cases.filter((f) => f.startsWith('pack-unpack__')).map((f) => ({ name: f, ...(parseYaml(readFileSync(path.join(interop, f), 'utf8')) as { kitfile: string; kitignore?: string; files?: string[]; ignored?: string[] }) }));

describe("KitOps' pack-unpack test cases", () => {
  it('are all there', () => expect(packCases.length).toBeGreaterThanOrEqual(10));
  for (const c of packCases) {
    it(`${c.name}: its Kitfile parses, paths normalised`, () => {
      const spec = parseKitfile(c.kitfile, ctx);
      const raw = parseYaml(c.kitfile) as Record<string, unknown>;
      const listed = [
        ...(raw['model'] ? [(raw['model'] as { path?: string }).path, ...((raw['model'] as { parts?: { path: string }[] }).parts ?? []).map((p) => p.path)] : []),
        ...(['code', 'datasets', 'docs'] as const).flatMap((k) => ((raw[k] as { path: string }[] | undefined) ?? []).map((e) => e.path)),
      ].filter((p): p is string => p !== undefined);
      expect(spec.files).toHaveLength(listed.length);
      for (const f of spec.files) {
        expect(f.path).not.toMatch(/^\.\/|\/$/);
        expect(listed.some((p) => p.replace(/^\.\//, '').replace(/\/$/, '') === f.path || (p === '.' && f.path === '.'))).toBe(true);
      }
    });
    if (c.kitignore) {
      it(`${c.name}: .kitignore keeps every file and drops every ignored one`, () => {
        const matcher = createIgnoreMatcher(c.kitignore!.split('\n'));
        for (const f of c.files ?? []) expect(matcher.ignores(f.replace(/^\.\//, '')), f).toBe(false);
        for (const f of c.ignored ?? []) expect(matcher.ignores(f.replace(/^\.\//, '')), f).toBe(true);
      });
    }
  }
});

describe("KitOps' Kitfile-generation cases: file kinds", () => {
  // Cases where KitOps decides per file; folder grouping and metadata attachment are its own heuristics.
  for (const name of ['type-detect', 'multi-part-models', 'existing-Kitfile', 'model-and-adaptor', 'metadata-files-model']) {
    it(name, () => {
      const c = parseYaml(readFileSync(path.join(interop, `kitfile-generation__test_${name}.yaml`), 'utf8')) as {
        expectedKitfile: { model?: { path: string; parts?: { path: string }[] }; datasets?: { path: string }[]; docs?: { path: string }[] };
      };
      const k = c.expectedKitfile;
      const weights = [k.model?.path, ...(k.model?.parts ?? []).map((p) => p.path)].filter((p): p is string => !!p && !/metadata/.test(p));
      expect(weights.length).toBeGreaterThan(0);
      for (const w of weights) expect(classifyFile(w), w).toBe('weight');
      for (const d of k.datasets ?? []) expect(classifyFile(d.path), d.path).toBe('dataset');
      for (const d of k.docs ?? []) expect(classifyFile(d.path), d.path).toBe('doc');
    });
  }
  it('type-detect: shell scripts are code', () => {
    expect(classifyFile('test.sh')).toBe('code');
    expect(classifyFile('bootstrap.sh')).toBe('code');
  });
});
