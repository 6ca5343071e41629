/**
 * Model folders on disk and the ModelSpec that describes them, for pack and unpack tests.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileKind, ModelSpec } from '../../modules/project/model-spec.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');


export async function tempDir(prefix = 'modelship-mp-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function writeTree(root: string, files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

export function specFor(contextDir: string, files: { kind: FileKind; path: string }[], extra: Partial<ModelSpec> = {}): ModelSpec {
  return {
    source: { format: 'modelship' },
    contextDir,
    descriptor: { name: 'tiny', version: '1.0' },
    config: { architecture: 'llama', format: 'gguf', paramSize: '1M' },
    files,
    ignore: [],
    pipeline: {},
    ...extra,
  };
}

/** Deterministic pseudo-random bytes (a weight file stand-in). */
export function bytesOf(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** A small model: two weights, a config, a doc, code in a folder and a dataset. */
export async function sampleModel(root: string): Promise<ModelSpec> {
  await writeTree(root, {
    'model-00001.safetensors': bytesOf(300_000, 1),
    'model-00002.safetensors': bytesOf(200_001, 2),
    'config.json': '{"architectures":["LlamaForCausalLM"]}\n',
    'README.md': '# tiny\n',
    'src/serve.py': 'print("hi")\n',
    'src/util/__init__.py': '',
    'data/train.jsonl': '{"a":1}\n'.repeat(100),
  });
  return specFor(root, [
    { kind: 'weight', path: '*.safetensors' },
    { kind: 'weightConfig', path: 'config.json' },
    { kind: 'doc', path: 'README.md' },
    { kind: 'code', path: 'src' },
    { kind: 'dataset', path: 'data/' },
  ]);
}

import { descriptorOf } from '../../modules/oci/digest.js';
import { encodeManifest } from '../../modules/oci/manifest.js';
import type { Descriptor, Target } from '../../modules/oci/types.js';

export interface BlobSpec {
  mediaType: string;
  bytes: Uint8Array;
  annotations?: Record<string, string>;
}

/** Push a manifest of the given shape (config and layers pushed first) and tag it. */
export async function pushArtifact(
  store: Target,
  tag: string,
  shape: { mediaType?: string; artifactType?: string; config: BlobSpec; layers: BlobSpec[]; annotations?: Record<string, string> },
): Promise<Descriptor> {
  const put = async (b: BlobSpec): Promise<Descriptor> => {
    const d = descriptorOf(b.bytes, b.mediaType, b.annotations ? { annotations: b.annotations } : {});
    if (!(await store.exists(d))) await store.push(d, b.bytes);
    return d;
  };
  const config = await put(shape.config);
  const layers: Descriptor[] = [];
  for (const l of shape.layers) layers.push(await put(l));
  const { bytes, descriptor } = encodeManifest({
    schemaVersion: 2,
    mediaType: shape.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
    ...(shape.artifactType ? { artifactType: shape.artifactType } : {}),
    config,
    layers,
    ...(shape.annotations ? { annotations: shape.annotations } : {}),
  });
  await store.push(descriptor, bytes);
  await store.tag(descriptor, tag);
  return descriptor;
}

export const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
