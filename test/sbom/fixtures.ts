/**
 * Three model projects written to temp folders: a GGUF chat model, a safetensors model with two
 * datasets, and a folder of Python and Node code with lock files.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ModelSpec } from '../../modules/project/model-spec.js';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');

export interface Project {
  dir: string;
  spec: ModelSpec;
  /** sha256 hex of each file written, computed from the bytes themselves. */
  digests: Record<string, string>;
  cleanup(): Promise<void>;
}

export const sha256Hex = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

async function writeProject(prefix: string, files: Record<string, string | Uint8Array>): Promise<{ dir: string; digests: Record<string, string> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  const digests: Record<string, string> = {};
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
    digests[rel] = sha256Hex(content);
  }
  return { dir, digests };
}

function spec(dir: string, fields: Partial<Pick<ModelSpec, 'descriptor' | 'config' | 'files'>>): ModelSpec {
  return {
    source: { format: 'modelship' },
    contextDir: dir,
    descriptor: fields.descriptor ?? {},
    config: fields.config ?? {},
    files: fields.files ?? [],
    ignore: [],
    pipeline: {},
  };
}

// A GGUF header: magic, version 3, zero tensors, zero metadata entries.
const ggufBytes = () => {
  const b = Buffer.alloc(24 + 4096);
  b.write('GGUF', 0, 'ascii');
  b.writeUInt32LE(3, 4);
  for (let i = 24; i < b.length; i++) b[i] = (i * 31) & 0xff;
  return new Uint8Array(b);
};

export const CHAT_README = `---
license: apache-2.0
language:
  - en
  - fr
pipeline_tag: text-generation
library_name: llama.cpp
tags: [chat, gguf]
datasets:
  - OpenAssistant/oasst1
model-index:
  - name: tiny-chat
    results:
      - task: { type: text-generation }
        dataset: { name: MMLU, type: cais/mmlu }
        metrics:
          - { type: accuracy, value: 0.412 }
---
# tiny-chat

A small chat model.

## Intended uses

- Local assistants on laptops
- Teaching how chat models work

## Limitations

- Hallucinates facts about recent events
- English and French only

## Ethical considerations

The model can repeat biases found in web text.
`;

export async function chatProject(): Promise<Project> {
  const { dir, digests } = await writeProject('sbom-chat-', {
    'tiny-chat.Q4_K_M.gguf': ggufBytes(),
    'README.md': CHAT_README,
    'eval_results.json': JSON.stringify([
      { task: 'text-generation', dataset: 'hellaswag', metric: 'acc_norm', value: 0.55 },
      { task: 'text-generation', dataset: 'arc_easy', metric: 'acc', value: '0.61' },
    ]),
  });
  return {
    dir,
    digests,
    spec: spec(dir, {
      descriptor: { name: 'tiny-chat', version: '1.0.0', vendor: 'Example Labs', authors: ['Ada Lovelace'], licenses: ['Apache-2.0'], description: 'A small chat model' },
      config: {
        architecture: 'llama',
        format: 'gguf',
        paramSize: '1.1B',
        precision: 'int4',
        quantization: 'Q4_K_M',
        capabilities: { inputTypes: ['text'], outputTypes: ['text'], languages: ['en', 'fr'] },
      },
      files: [
        { kind: 'weight', path: 'tiny-chat.Q4_K_M.gguf' },
        { kind: 'doc', path: 'README.md' },
        { kind: 'doc', path: 'eval_results.json' },
      ],
    }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export async function safetensorsProject(): Promise<Project> {
  const { dir, digests } = await writeProject('sbom-st-', {
    'model.safetensors': new Uint8Array(Buffer.concat([Buffer.from([8, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{}      ')])),
    'config.json': JSON.stringify({ architectures: ['BertForSequenceClassification'], model_type: 'bert' }),
    'tokenizer.json': JSON.stringify({ version: '1.0' }),
    'data/train/reviews.csv': 'text,label\ngreat,1\nawful,0\n',
    'data/test/reviews.csv': 'text,label\nfine,1\n',
    'LICENSE': 'MIT License\n',
  });
  return {
    dir,
    digests,
    spec: spec(dir, {
      descriptor: { name: 'review-classifier', version: '2.1', licenses: ['MIT', 'llama3.1'], family: 'bert', datasetsURL: 'https://example.com/datasets/reviews' },
      config: { architecture: 'BertForSequenceClassification', format: 'safetensors', paramSize: '110M', precision: 'float32' },
      files: [
        { kind: 'weight', path: 'model.safetensors' },
        { kind: 'weightConfig', path: 'config.json' },
        { kind: 'weightConfig', path: 'tokenizer.json' },
        { kind: 'doc', path: 'LICENSE' },
        { kind: 'dataset', path: 'data/train', name: 'reviews-train', license: 'CC-BY-4.0' },
        { kind: 'dataset', path: 'data/test/*.csv', name: 'reviews-test', license: 'CC-BY-SA-4.0 OR MIT' },
      ],
    }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

const shaA = 'a'.repeat(64);
const shaB = 'b'.repeat(64);

export const REQUIREMENTS = `# runtime
torch==2.3.1 --hash=sha256:${shaA}
Transformers[torch,sentencepiece] >=4.40,<5  # ranges stay ranges
numpy == 1.26.4 ; python_version >= "3.9"
accelerate==0.30.0 ; extra == "gpu"
-r requirements-base.txt
--index-url https://pypi.org/simple
git+https://github.com/example/private.git#egg=private
requests==2.31.0 \\
    --hash=sha256:${shaB}
`;

export const REQUIREMENTS_BASE = `Pillow==10.3.0
zope.interface==6.4
`;

export const PYPROJECT = `[project]
name = "serve-model"
version = "0.1.0"
dependencies = ["fastapi>=0.110", "uvicorn[standard]==0.29.0"]

[project.optional-dependencies]
dev = ["pytest>=8"]

[tool.poetry.dependencies]
python = "^3.10"
pydantic = "^2.7"
`;

export const POETRY_LOCK = `[[package]]
name = "fastapi"
version = "0.111.0"
description = "FastAPI framework"
optional = false
python-versions = ">=3.8"
files = [
    {file = "fastapi-0.111.0-py3-none-any.whl", hash = "sha256:${shaA}"},
]

[package.dependencies]
pydantic = ">=1.7.4"
starlette = ">=0.37.2,<0.38.0"

[[package]]
name = "Pydantic"
version = "2.7.1"
description = "Data validation"
optional = false
python-versions = ">=3.8"
files = []

[[package]]
name = "starlette"
version = "0.37.2"
description = "ASGI"
optional = false
python-versions = ">=3.8"
files = []

[[package]]
name = "pytest"
version = "8.2.0"
description = "testing"
optional = false
python-versions = ">=3.8"
files = []

[metadata]
lock-version = "2.0"
python-versions = "^3.10"
content-hash = "abc"
`;

export const PACKAGE_JSON = JSON.stringify({
  name: 'model-ui',
  version: '1.0.0',
  dependencies: { '@huggingface/transformers': '^3.0.0', express: '4.19.2' },
  devDependencies: { vitest: '^1.6.0' },
});

const integrity = (seed: string) => 'sha512-' + createHash('sha512').update(seed).digest('base64');

export const PACKAGE_LOCK = JSON.stringify({
  name: 'model-ui',
  version: '1.0.0',
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': { name: 'model-ui', version: '1.0.0', dependencies: { '@huggingface/transformers': '^3.0.0', express: '4.19.2' }, devDependencies: { vitest: '^1.6.0' } },
    'node_modules/@huggingface/transformers': { version: '3.0.2', resolved: 'https://registry.npmjs.org/@huggingface/transformers/-/transformers-3.0.2.tgz', integrity: integrity('hf'), dependencies: { 'onnxruntime-node': '1.19.2' } },
    'node_modules/onnxruntime-node': { version: '1.19.2', integrity: integrity('ort') },
    'node_modules/express': { version: '4.19.2', integrity: integrity('express') },
    'node_modules/vitest': { version: '1.6.0', dev: true, integrity: integrity('vitest') },
  },
});

export async function codeProject(): Promise<Project> {
  const { dir, digests } = await writeProject('sbom-code-', {
    'model.onnx': new Uint8Array([8, 1, 18, 4, 116, 101, 115, 116]),
    'serve/requirements.txt': REQUIREMENTS,
    'serve/requirements-base.txt': REQUIREMENTS_BASE,
    'serve/app.py': 'print("hello")\n',
    'api/pyproject.toml': PYPROJECT,
    'api/poetry.lock': POETRY_LOCK,
    'ui/package.json': PACKAGE_JSON,
    'ui/package-lock.json': PACKAGE_LOCK,
    'ui/index.js': 'console.log(1)\n',
  });
  return {
    dir,
    digests,
    spec: spec(dir, {
      descriptor: { name: 'code-model', version: '0.3.0', licenses: ['Apache-2.0'] },
      config: { format: 'onnx' },
      files: [
        { kind: 'weight', path: 'model.onnx' },
        { kind: 'code', path: 'serve' },
        { kind: 'code', path: 'api' },
        { kind: 'code', path: 'ui' },
      ],
    }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
