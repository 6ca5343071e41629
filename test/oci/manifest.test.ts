import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { encodeManifest, parseImageManifest, parseManifestContent, successors, MAX_MANIFEST_BYTES, MEDIA_TYPE, descriptorOf } from '../../modules/oci/index.js';
import type { ModelshipError } from '../../modules/errors/index.js';
import { sampleImage } from './fixtures.js';
import { vectorPath } from '../helpers/vectors.js';

const specs = vectorPath('oci');

/** Drop draft-04 `id`s so relative $refs resolve against the names each file is registered under. */
function withoutIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutIds);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([k, v]) => !((k === 'id' && typeof v === 'string') || k === '$schema')).map(([k, v]) => [k, withoutIds(v)]));
}

/** The upstream draft-04 schemas, each registered under its file name (relative $refs use it). */
function upstreamValidator(schemaFile: string) {
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  const aliases = JSON.parse(readFileSync(join(specs, 'SCHEMA_URL_ALIASES.json'), 'utf8')) as Record<string, unknown>;
  for (const file of Object.keys(aliases).filter((f) => f.endsWith('.json'))) {
    ajv.addSchema(withoutIds(JSON.parse(readFileSync(join(specs, file), 'utf8'))) as object, file);
  }
  const validate = ajv.getSchema(schemaFile);
  if (!validate) throw new Error(`no schema ${schemaFile}`);
  return validate;
}

function errorOf(fn: () => unknown): ModelshipError {
  try {
    fn();
  } catch (err) {
    return err as ModelshipError;
  }
  throw new Error('expected an error');
}

describe('manifests', () => {
  it('encodes manifests the upstream schema accepts', () => {
    const validate = upstreamValidator('image-manifest-schema.json');
    const image = sampleImage([10]);
    const ok = validate(JSON.parse(Buffer.from(image.manifestBytes).toString('utf8')));
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    // and the schema really checks: a manifest without a config is refused by it too
    expect(validate({ schemaVersion: 2, layers: [] })).toBe(false);
  });

  it('lists every bad field path and names the source', () => {
    const bytes = new TextEncoder().encode(
      JSON.stringify({ schemaVersion: 1, config: { mediaType: 'nope', digest: 'sha256:x', size: -1 }, layers: [{ digest: 'sha256:' + 'a'.repeat(64), size: 1.5 }] }),
    );
    const err = errorOf(() => parseImageManifest(bytes, 'oci:/tmp/x (sha256:abc)'));
    expect(err.code).toBe('OCI_INVALID_MANIFEST');
    expect(err.message).toContain('oci:/tmp/x (sha256:abc)');
    for (const field of ['schemaVersion', 'config.mediaType', 'config.digest', 'config.size', 'layers[0].mediaType', 'layers[0].size']) {
      expect(err.message).toContain(`${field}:`);
    }
  });

  it('refuses manifests over 4 MiB before parsing', () => {
    const err = errorOf(() => parseImageManifest(new Uint8Array(MAX_MANIFEST_BYTES + 1), 'big.json'));
    expect(err.code).toBe('OCI_SIZE_LIMIT');
    expect(err.message).toContain('big.json');
  });

  it('refuses non-JSON and a mediaType that disagrees with the descriptor', () => {
    expect(errorOf(() => parseImageManifest(new TextEncoder().encode('{oops'), 'x')).code).toBe('OCI_INVALID_MANIFEST');
    const image = sampleImage([1]);
    const asIndex = { ...image.descriptor, mediaType: MEDIA_TYPE.ociIndex };
    expect(errorOf(() => parseManifestContent(asIndex, image.manifestBytes, 'x')).message).toContain('the content says');
  });

  it('follows config and layers of a manifest, manifests of an index, and nothing of unknown types', () => {
    const image = sampleImage([3, 4]);
    expect(successors(image.descriptor, image.manifestBytes, 'x').map((d) => d.digest)).toEqual(image.blobs.map((b) => b.descriptor.digest));
    const index = encodeManifest({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests: [image.descriptor] });
    expect(successors(index.descriptor, index.bytes, 'x')).toEqual([image.descriptor]);
    const odd = new TextEncoder().encode('not json at all');
    expect(successors(descriptorOf(odd, 'application/vnd.example.thing'), odd, 'x')).toEqual([]);
  });
});
