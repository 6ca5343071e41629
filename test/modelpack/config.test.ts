import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildModelConfig, modelConfigProblems, parseModelConfig, serializeConfig, validateModelConfig } from '../../modules/modelpack/config.js';
import { layerMediaType, parseLayerMediaType } from '../../modules/modelpack/mediatypes.js';
import { ModelSpec } from '../../modules/project/model-spec.js';
import { hasCode } from '../../modules/errors/index.js';
import { vectorPath } from '../helpers/vectors.js';

const specs = vectorPath('modelpack');
const vectors = JSON.parse(readFileSync(path.join(specs, 'config-test-vectors.json'), 'utf8')) as {
  vectors: { description: string; shouldFail: boolean; config: unknown }[];
};

const D1 = 'sha256:' + 'a'.repeat(64);
const D2 = 'sha256:' + 'b'.repeat(64);

describe('upstream config test vectors', () => {
  it('has all 27', () => expect(vectors.vectors).toHaveLength(27));
  for (const v of vectors.vectors) {
    it(v.description, () => {
      expect(modelConfigProblems(v.config).length > 0).toBe(v.shouldFail);
    });
  }
  it('accepts the upstream example config', () => {
    const example = JSON.parse(readFileSync(path.join(specs, 'example-config.json'), 'utf8'));
    expect(() => validateModelConfig(example)).not.toThrow();
  });
});

describe('checks the schema lacks', () => {
  const base = { descriptor: { name: 'm' }, config: { paramSize: '7B' }, modelfs: { type: 'layers', diffIds: [D1, D2] } };
  it('rejects a paramSize outside the grammar and a non-digest diffId, listing both paths', () => {
    const bad = { ...base, config: { paramSize: '7 billion' }, modelfs: { type: 'layers', diffIds: [D1, 'sha256:xyz'] } };
    try {
      validateModelConfig(bad, { where: 'test.json' });
      expect.unreachable();
    } catch (err) {
      expect(hasCode(err, 'MODELPACK_CONFIG_INVALID')).toBe(true);
      expect((err as Error).message).toContain('/config/paramSize');
      expect((err as Error).message).toContain('/modelfs/diffIds/1');
      expect((err as Error).message).toContain('test.json');
    }
  });
  it('accepts paramSize forms 7B, 1.5T, 125m, 8b', () => {
    for (const p of ['7B', '1.5T', '125m', '8b', '300K', '2Q']) expect(modelConfigProblems({ ...base, config: { paramSize: p } })).toEqual([]);
  });
  it('matches diffIds to the manifest layers in count and order', () => {
    const raw = (digest: string) => ({ mediaType: layerMediaType('weight', 'raw'), digest, size: 1 });
    expect(modelConfigProblems(base, { layers: [raw(D1), raw(D2)] })).toEqual([]);
    const swapped = modelConfigProblems(base, { layers: [raw(D2), raw(D1)] });
    expect(swapped.map((p) => p.path)).toEqual(['/modelfs/diffIds/0', '/modelfs/diffIds/1']);
    expect(modelConfigProblems(base, { layers: [raw(D1)] })[0]!.message).toContain('2 entries but the manifest has 1 layers');
    // A gzip layer's diffId is the uncompressed digest, so it differs from the layer digest.
    const gz = { mediaType: layerMediaType('code', 'tar+gzip'), digest: D1, size: 1 };
    expect(modelConfigProblems(base, { layers: [raw(D1), gz] })).toEqual([]);
  });
  it('rejects unknown top-level fields with the field name', () => {
    const problems = modelConfigProblems({ ...base, extra: 1 });
    expect(problems.some((p) => p.message.includes('"extra"'))).toBe(true);
  });
});

describe('building and serialising', () => {
  const spec = ModelSpec.parse({
    source: { format: 'modelship' },
    contextDir: '/tmp/x',
    descriptor: { name: 'tiny', version: '1.0', licenses: ['Apache-2.0'], datasetsURL: 'https://example.com/d', authors: ['A'] },
    config: { format: 'gguf', paramSize: '125M', architecture: 'llama', capabilities: { toolUsage: true, inputTypes: ['text'] } },
    files: [],
  });
  it('builds a config that validates, with no createdAt unless asked', () => {
    const cfg = buildModelConfig(spec, [D1]);
    expect(cfg.descriptor.createdAt).toBeUndefined();
    expect(cfg.descriptor.datasetsURL).toEqual(['https://example.com/d']);
    expect(() => validateModelConfig(cfg)).not.toThrow();
    expect(buildModelConfig(spec, [D1], { created: '2025-01-01T00:00:00Z' }).descriptor.createdAt).toBe('2025-01-01T00:00:00Z');
  });
  it('serialises compactly in a fixed key order whatever the input order', () => {
    const cfg = buildModelConfig(spec, [D1]);
    const text = new TextDecoder().decode(serializeConfig(cfg));
    expect(text).toBe(
      '{"descriptor":{"authors":["A"],"name":"tiny","version":"1.0","datasetsURL":["https://example.com/d"],"licenses":["Apache-2.0"]},' +
        '"config":{"architecture":"llama","format":"gguf","paramSize":"125M","capabilities":{"inputTypes":["text"],"toolUsage":true}},' +
        `"modelfs":{"type":"layers","diffIds":["${D1}"]}}`,
    );
    const reversed = JSON.parse(text, (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v));
    expect(new TextDecoder().decode(serializeConfig(reversed))).toBe(text);
  });
  it('parses back what it wrote', () => {
    const cfg = buildModelConfig(spec, [D1, D2]);
    expect(parseModelConfig(serializeConfig(cfg))).toEqual(cfg);
  });
});

describe('legacy configs', () => {
  it('reads snake_case keys into the same shape', () => {
    const legacy = JSON.stringify({
      descriptor: { name: 'old', created_at: '2024-01-01T00:00:00Z', doc_url: 'https://d', datasets_url: 'https://ds' },
      config: { param_size: '8B', capabilities: { input_types: ['text'], tool_usage: false, knowledge_cutoff: '2024-01-01T00:00:00Z' } },
      modelfs: { type: 'layers', diff_ids: [D1] },
    });
    const cfg = parseModelConfig(legacy);
    expect(cfg.descriptor).toMatchObject({ name: 'old', createdAt: '2024-01-01T00:00:00Z', docURL: 'https://d', datasetsURL: ['https://ds'] });
    expect(cfg.config).toMatchObject({ paramSize: '8B', capabilities: { inputTypes: ['text'], toolUsage: false } });
    expect(cfg.modelfs.diffIds).toEqual([D1]);
    expect(modelConfigProblems(cfg)).toEqual([]);
  });
  it('rejects bytes that are not JSON with a coded error', () => {
    expect(() => parseModelConfig('{nope', 'blob sha256:abc')).toThrow(/blob sha256:abc is not JSON/);
  });
});

describe('media types', () => {
  it('round-trips every kind and format, and reads legacy cnai names', () => {
    for (const kind of ['weight', 'weightConfig', 'doc', 'code', 'dataset'] as const) {
      for (const format of ['raw', 'tar', 'tar+gzip', 'tar+zstd'] as const) {
        const mt = layerMediaType(kind, format);
        expect(parseLayerMediaType(mt)).toEqual({ kind, format, legacy: false });
        expect(parseLayerMediaType(mt.replace('.cncf.', '.cnai.'))).toEqual({ kind, format, legacy: true });
      }
    }
    expect(layerMediaType('weightConfig', 'tar')).toBe('application/vnd.cncf.model.weight.config.v1.tar');
    expect(parseLayerMediaType('application/vnd.cncf.model.weight.v1.raw+gzip')).toBeUndefined();
    expect(parseLayerMediaType('application/vnd.kitops.modelkit.model.v1.tar')).toBeUndefined();
  });
});
