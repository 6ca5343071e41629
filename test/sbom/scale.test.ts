import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ImageManifest } from '../../modules/oci/index.js';
import { buildSbom, sbomInputFromManifest, validateCycloneDx } from '../../modules/sbom/index.js';
import { canonicalJson, withLinearUniqueItems } from '../../modules/sbom/ajv.js';
import { readSchema } from '../../modules/sbom/locate.js';

/** A ModelPack manifest of `count` raw layers (weights and datasets), built in memory: no blob exists. */
function manyLayers(count: number): ImageManifest {
  const layers = Array.from({ length: count }, (_, i) => {
    const kind = i % 4 === 0 ? 'dataset' : 'weight';
    return {
      mediaType: `application/vnd.cncf.model.${kind}.v1.raw`,
      digest: `sha256:${createHash('sha256').update(String(i)).digest('hex')}`,
      size: String(i).length,
      annotations: { 'org.cncf.model.filepath': `shard-${i % 50}/part-${i}.bin` },
    };
  });
  return {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: 'application/vnd.cncf.model.manifest.v1+json',
    config: { mediaType: 'application/vnd.cncf.model.config.v1+json', digest: `sha256:${'c'.repeat(64)}`, size: 2 },
    layers,
  };
}

const artifact = { reference: 'oci:big:v1', digest: `sha256:${'a'.repeat(64)}`, mediaType: 'application/vnd.oci.image.manifest.v1+json' };

describe('SBOMs of very many layers', () => {
  it('builds and validates CycloneDX and SPDX for a 10,000-layer manifest, every file listed once with a unique id', { timeout: 180_000 }, () => {
    const input = sbomInputFromManifest(manyLayers(10_000), { descriptor: { name: 'big' } }, artifact);
    const cdx = buildSbom(input, 'cyclonedx').document as { components: { type: string; components?: unknown[] }[] };
    const modelFiles = cdx.components.filter((c) => c.type === 'file');
    const dataFiles = cdx.components.filter((c) => c.type === 'data').flatMap((c) => c.components ?? [c]);
    expect(modelFiles.length + dataFiles.length).toBe(10_000);
    const spdx = buildSbom(input, 'spdx').document as { '@graph': { spdxId?: string; type: string }[] };
    const ids = spdx['@graph'].flatMap((e) => (e.spdxId ? [e.spdxId] : []));
    expect(new Set(ids).size).toBe(ids.length);
    expect(spdx['@graph'].filter((e) => e.type === 'Relationship').length).toBeGreaterThan(0);
  });

  it('still refuses duplicate items where the schema says uniqueItems, whatever the key order', () => {
    const component = { type: 'file', name: 'a.bin', hashes: [{ alg: 'SHA-256', content: 'b'.repeat(64) }] };
    const reordered = { hashes: [{ content: 'b'.repeat(64), alg: 'SHA-256' }], name: 'a.bin', type: 'file' };
    const bom = { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [component, { ...component, name: 'b.bin' }, reordered] };
    const errors = validateCycloneDx(bom);
    expect(errors).toEqual([expect.objectContaining({ path: '/components', message: expect.stringContaining('items ## 0 and 2 are identical') })]);
    expect(validateCycloneDx({ ...bom, components: bom.components.slice(0, 2) })).toEqual([]);
  });

  it('leaves no pairwise uniqueItems in the compiled schemas, and keys values by content, not key order', () => {
    const schema = readSchema('cyclonedx', 'bom-1.6.schema.json');
    expect(JSON.stringify(schema).includes('"uniqueItems":true')).toBe(true);
    expect(JSON.stringify(withLinearUniqueItems(schema)).includes('"uniqueItems"')).toBe(false);
    expect(canonicalJson({ b: [1, { d: 2, c: null }], a: 'x' })).toBe(canonicalJson({ a: 'x', b: [1, { c: null, d: 2 }] }));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });
});
