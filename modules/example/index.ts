/**
 * A tiny, complete model project for the quickstart and for trying modelship without downloads:
 * a real GGUF chat model that always answers one sentence, its model card, data card, technical
 * report, evaluation results and licence, laid out as a MOF Class III project.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { CANNED_SENTENCE, writeTinyModel } from '../gguf/index.js';
import { requireEmptyFolder, writeProjectFiles } from './files.js';
import { APACHE_2_0 } from './licence.js';

export interface ExampleProject {
  dir: string;
  modelFile: string;
  sentence: string;
  files: string[];
}


function modelCard(sentence: string): string {
  return `---
license: apache-2.0
language:
  - en
library_name: gguf
pipeline_tag: text-generation
tags:
  - modelship-example
model-index:
  - name: tiny-chat
    results:
      - task: {type: text-generation}
        dataset: {name: canned-replies, type: canned-replies}
        metrics:
          - {type: exact_match, value: 1.0}
---

# tiny-chat

A 460 KiB llama-architecture GGUF model whose weights are set by hand so that greedy decoding
always answers "${sentence}". It exists to exercise packaging, signing, serving and hand-off end
to end without downloading a real model.

## Uses

Testing model pipelines. It has no knowledge and must not be used to answer questions.

## Limitations

It answers every prompt with the same sentence.
`;
}

const DATA_CARD = `# Data card: canned-replies

No training data: the weights are computed, not learned. The evaluation set is one prompt and
the expected sentence, in eval_results.json.
`;

const TECHNICAL_REPORT = `# Technical report: tiny-chat

Two transformer blocks, 64-wide embeddings, F32 weights. Attention and feed-forward outputs are
zero, so each next token depends only on the previous one through the embedding and output
matrices; those are set so that the chain spells the canned sentence and then end-of-text.
`;

/** Writes the example project into `dir` (which must be empty or absent) and returns what it wrote. */
export async function writeExampleProject(dir: string, options: { sentence?: string } = {}): Promise<ExampleProject> {
  await requireEmptyFolder(dir, 'the example project');
  const sentence = options.sentence ?? CANNED_SENTENCE;
  const modelFile = path.join(dir, 'model', 'tiny-chat.gguf');
  await mkdir(path.dirname(modelFile), { recursive: true });
  // 2048 tokens of context: room for the tool definitions and retrieved passages the templates send.
  await writeTinyModel(modelFile, { mode: 'canned', sentence, name: 'tiny-chat', contextLength: 2048 });
  const docs: Record<string, string> = {
    'README.md': modelCard(sentence),
    // The architecture, as Hugging Face tools describe it; the MOF counts it as the model architecture.
    'config.json': JSON.stringify({ architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 2, torch_dtype: 'float32' }, null, 2) + '\n',
    'DATACARD.md': DATA_CARD,
    'LICENSE': APACHE_2_0,
    'docs/technical-report.md': TECHNICAL_REPORT,
    'eval_results.json': JSON.stringify({ results: { 'canned-replies': { 'exact_match,none': 1.0, alias: 'canned-replies' } } }, null, 2) + '\n',
  };
  await writeProjectFiles(dir, docs);
  return { dir, modelFile, sentence, files: ['model/tiny-chat.gguf', ...Object.keys(docs)].sort() };
}
