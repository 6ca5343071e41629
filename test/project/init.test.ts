import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { detectProject, loadSpec, readSafetensorsHeader } from '../../modules/project/index.js';
import { runCli } from '../helpers/cli.js';
import { writeGguf, LLAMA_METADATA } from './gguf-fixture.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'spec-init-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A real safetensors file: 8-byte LE header length, JSON header, then the tensor bytes. */
async function writeSafetensors(file: string, tensors: Record<string, { dtype: string; shape: number[] }>, metadata?: Record<string, string>) {
  const bytesPer: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I8: 1 };
  let offset = 0;
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  for (const [name, t] of Object.entries(tensors)) {
    const size = t.shape.reduce((a, b) => a * b, 1) * bytesPer[t.dtype]!;
    header[name] = { ...t, data_offsets: [offset, offset + size] };
    offset += size;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  await writeFile(file, Buffer.concat([len, json, Buffer.alloc(offset)]));
}

async function put(rel: string, content: string | Buffer = 'x\n') {
  await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
  await writeFile(path.join(dir, rel), content);
}

const README = `---
license: llama3.1
language: [en, de, multilingual]
pipeline_tag: text-generation
base_model: meta-llama/Llama-3.1-8B-Instruct
---
# Tiny model
`;

async function hfProject() {
  await writeSafetensors(path.join(dir, 'model-00001-of-00002.safetensors'), { 'a.weight': { dtype: 'BF16', shape: [1000, 1000] } }, { format: 'pt' });
  await writeSafetensors(path.join(dir, 'model-00002-of-00002.safetensors'), { 'b.weight': { dtype: 'BF16', shape: [500, 1000] }, 'norm': { dtype: 'F32', shape: [1000] } });
  await put('config.json', JSON.stringify({ architectures: ['LlamaForCausalLM'], model_type: 'llama', torch_dtype: 'bfloat16', quantization_config: { quant_method: 'awq', bits: 4 } }));
  await put('tokenizer.json', '{}');
  await put('tokenizer_config.json', '{}');
  await put('README.md', README);
  await put('train.py', 'print(1)\n');
  await put('requirements.txt', 'torch\n');
  await put('data/train.csv', 'a,b\n');
  await put('data/test.csv', 'a,b\n');
  await put('.git/HEAD', 'ref: refs/heads/main\n');
  await put('node_modules/x/index.js', '');
  await put('scratch/tmp.bin', 'junk');
  await put('.modelshipignore', '# scratch space\nscratch/\n');
}

describe('reading headers', () => {
  it('reads a safetensors header: dtypes, parameter count, metadata', async () => {
    const file = path.join(dir, 'm.safetensors');
    await writeSafetensors(file, { w: { dtype: 'F16', shape: [3, 4] }, b: { dtype: 'F32', shape: [4] } }, { format: 'pt' });
    expect(await readSafetensorsHeader(file)).toEqual({ elementsByDtype: { F16: 12, F32: 4 }, paramCount: 16, metadata: { format: 'pt' } });
  });
  it('refuses a safetensors file whose header length does not fit', async () => {
    const file = path.join(dir, 'bad.safetensors');
    const head = Buffer.alloc(16);
    head.writeBigUInt64LE(1n << 40n);
    await writeFile(file, head);
    await expect(readSafetensorsHeader(file)).rejects.toThrow(/bad\.safetensors: not a valid safetensors file at byte 0: header length/);
  });
});

describe('detectProject', () => {
  it('classifies a Hugging Face style folder and reads its metadata', async () => {
    await hfProject();
    const { spec, findings, missing } = await detectProject(dir);
    expect(spec.source).toEqual({ format: 'none' });
    expect(spec.files).toEqual([
      { kind: 'weight', path: 'model-00001-of-00002.safetensors' },
      { kind: 'weight', path: 'model-00002-of-00002.safetensors' },
      { kind: 'weightConfig', path: 'config.json' },
      { kind: 'weightConfig', path: 'tokenizer.json' },
      { kind: 'weightConfig', path: 'tokenizer_config.json' },
      { kind: 'doc', path: 'README.md' },
      { kind: 'code', path: 'requirements.txt' },
      { kind: 'code', path: 'train.py' },
      { kind: 'dataset', path: 'data' },
    ]);
    expect(spec.config).toEqual({
      format: 'safetensors',
      paramSize: '1.5M',
      precision: 'bf16',
      architecture: 'llama',
      quantization: 'awq-int4',
      capabilities: { inputTypes: ['text'], outputTypes: ['text'], languages: ['en', 'de'] },
    });
    expect(spec.descriptor).toEqual({ name: path.basename(dir), licenses: ['LicenseRef-llama3.1'], description: 'Derived from meta-llama/Llama-3.1-8B-Instruct.' });
    expect(spec.ignore).toEqual(['scratch/']);
    expect(findings.join('\n')).toMatch(/2 safetensors file\(s\): 1501000 parameters, mostly bf16/);
    expect(missing).toEqual(['version']);
  });

  it('reads a GGUF header into the model fields', async () => {
    await writeGguf(path.join(dir, 'tiny-q4_k_m.gguf'), { metadata: LLAMA_METADATA, tensors: [{ name: 't', dims: [8, 4] }] });
    await put('LICENSE', 'Apache License\n');
    const { spec, missing } = await detectProject(dir);
    expect(spec.config).toEqual({ format: 'gguf', architecture: 'llama', quantization: 'Q4_K_M', paramSize: '135M' });
    expect(spec.descriptor).toEqual({ name: 'Tiny Llama', licenses: ['Apache-2.0'] });
    expect(spec.files).toEqual([{ kind: 'weight', path: 'tiny-q4_k_m.gguf' }, { kind: 'doc', path: 'LICENSE' }]);
    expect(missing).toContain('model.precision');
  });

  it('notes a broken GGUF and carries on', async () => {
    await put('broken.gguf', 'GGUF');
    const { spec, findings } = await detectProject(dir);
    expect(spec.config.format).toBe('gguf');
    expect(findings.join('\n')).toMatch(/broken\.gguf: not readable as GGUF .*file ends while reading version/);
  });
});

const init = (args: string[]) => runCli(['init', ...args], { cwd: dir });

describe('modelship init', () => {
  it('writes modelship.yaml that loads back as the same model, and refuses to overwrite it', async () => {
    await hfProject();
    const first = await init([]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/wrote .*modelship\.yaml\nfiles: 2 weight, 3 weightConfig, 1 doc, 2 code, 1 dataset/);
    expect(first.stdout).toMatch(/fill in by hand:\n  version/);
    const yaml = await readFile(path.join(dir, 'modelship.yaml'), 'utf8');
    // The same schema URL on every machine: the published copy of this version, not a path into this installation.
    const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(yaml.split('\n')[0]).toBe(`# yaml-language-server: $schema=https://unpkg.com/modelship@${version}/schemas/modelship.schema.json`);
    const loaded = await loadSpec(dir);
    const detected = (await detectProject(dir)).spec;
    expect(loaded.source.format).toBe('modelship');
    expect(loaded.files).toEqual(detected.files);
    expect(loaded.config).toEqual(detected.config);
    expect(loaded.descriptor).toEqual(detected.descriptor);

    const second = await init([]);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/modelship\.yaml already exists: edit it, or run "modelship init --force"/);
    expect(await readFile(path.join(dir, 'modelship.yaml'), 'utf8')).toBe(yaml);
    expect((await init(['--force'])).code).toBe(0);
  });

  it('--dry-run prints the YAML and writes nothing; --json prints the spec', async () => {
    await put('model.onnx', 'onnx');
    const dry = await init([dir, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^weights:\n {2}- model\.onnx$/m);
    await expect(readFile(path.join(dir, 'modelship.yaml'))).rejects.toThrow(/ENOENT/);
    const json = await init([dir, '--dry-run', '--json']);
    expect(json.code).toBe(0);
    const out = json.json() as { spec: { config: { format: string } }; missing: string[] };
    expect(out.spec.config.format).toBe('onnx');
    expect(out.missing).toContain('model.paramSize');
  });

  it('a missing folder is a clear error', async () => {
    const r = await init([path.join(dir, 'nope')]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/folder .*nope does not exist/);
  });
});
