/**
 * What a file in a model project is, from its name and folder: the rules `modelship init` uses.
 */
import path from 'node:path';
import type { FileKind } from './model-spec.js';

const WEIGHT_EXT = new Set(['.gguf', '.safetensors', '.onnx', '.h5', '.keras', '.tflite', '.mlmodel', '.pb', '.pt', '.pth', '.ckpt', '.bin', '.pkl', '.joblib', '.npy', '.npz', '.llamafile']);
const WEIGHT_CONFIG_NAMES = new Set([
  'config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'tokenizer.model', 'special_tokens_map.json',
  'merges.txt', 'preprocessor_config.json', 'added_tokens.json', 'adapter_config.json', 'params.json', 'processor_config.json',
  'model.safetensors.index.json', 'pytorch_model.bin.index.json',
]);
const CODE_EXT = new Set(['.py', '.ipynb', '.js', '.mjs', '.cjs', '.ts', '.sh', '.bash', '.go', '.rs', '.java', '.c', '.cc', '.cpp', '.h', '.hpp', '.r', '.jl', '.mcpb', '.lua', '.rb']);
const CODE_NAMES = new Set([
  'requirements.txt', 'pyproject.toml', 'setup.py', 'setup.cfg', 'package.json', 'package-lock.json', 'yarn.lock', 'pnpm-lock.yaml',
  'poetry.lock', 'uv.lock', 'pipfile', 'pipfile.lock', 'environment.yml', 'environment.yaml', 'containerfile', 'dockerfile', 'makefile',
  'cargo.toml', 'cargo.lock', 'go.mod', 'go.sum',
]);
const DATASET_EXT = new Set(['.csv', '.tsv', '.parquet', '.jsonl', '.arrow', '.tfrecord', '.feather', '.avro', '.zip', '.tar', '.tgz']);
const DATASET_DIRS = new Set(['data', 'datasets', 'dataset']);
const DOC_EXT = new Set(['.md', '.pdf', '.txt', '.rst', '.adoc', '.html', '.markdown']);
const DOC_PREFIX = /^(readme|license|licence|notice|copying|use_policy|model_card|changelog|citation)/i;
// Evaluation results (lm-eval-harness, HF eval files) document the model; they are not code.
const EVAL_RESULTS = /^(eval|evaluation)_?results?.*\.(json|ya?ml)$|^results.*\.json$/i;

/** The kind of a project file, or undefined when nothing about its name says what it is. */
export function classifyFile(relPath: string): FileKind | undefined {
  const base = path.posix.basename(relPath);
  const lower = base.toLowerCase();
  const ext = path.posix.extname(lower);
  const topDir = relPath.includes('/') ? relPath.split('/')[0]!.toLowerCase() : '';
  if (WEIGHT_CONFIG_NAMES.has(lower) || /^vocab\./.test(lower) || lower.endsWith('.tiktoken') || lower.startsWith('chat_template')) return 'weightConfig';
  if (DOC_PREFIX.test(base) || EVAL_RESULTS.test(base)) return 'doc';
  if (CODE_NAMES.has(lower) || /^requirements.*\.txt$/.test(lower) || /^(docker|container)file/.test(lower) || CODE_EXT.has(ext)) return 'code';
  if (DATASET_DIRS.has(topDir) || DATASET_EXT.has(ext) || lower.endsWith('.tar.gz')) return 'dataset';
  if (WEIGHT_EXT.has(ext)) return 'weight';
  if (DOC_EXT.has(ext)) return 'doc';
  return undefined;
}

/** The ModelPack `format` a weight file's extension implies. */
export function weightFormat(relPath: string): string | undefined {
  const ext = path.posix.extname(relPath.toLowerCase());
  switch (ext) {
    case '.gguf': return 'gguf';
    case '.safetensors': return 'safetensors';
    case '.onnx': return 'onnx';
    case '.pt': case '.pth': case '.ckpt': case '.bin': return 'pytorch';
    case '.pb': case '.h5': case '.keras': return 'tensorflow';
    case '.tflite': return 'tflite';
    case '.mlmodel': return 'coreml';
    case '.pkl': case '.joblib': return 'pickle';
    case '.npy': case '.npz': return 'numpy';
    default: return undefined;
  }
}
