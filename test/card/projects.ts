/**
 * Real model project folders on disk for the MOF and card tests: weights, code, docs, data and
 * LICENSE files as engineers lay them out.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const APACHE_HEADER = `
                                 Apache License
                           Version 2.0, January 2004
                        http://www.apache.org/licenses/

   TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION
`;
export const CC_BY_4_HEADER = 'Creative Commons Attribution 4.0 International Public License\n\nBy exercising the Licensed Rights...\nAttribution 4.0 International\n';

const MODEL_CARD = `---
license: apache-2.0
language:
  - en
base_model: none
model-index:
  - name: tiny
    results:
      - task: {type: text-generation}
        dataset: {name: HellaSwag, type: hellaswag}
        metrics:
          - {type: acc_norm, value: 0.41}
---

# tiny

A tiny model.
`;

async function put(root: string, rel: string, content: string | Buffer): Promise<void> {
  await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
  await writeFile(path.join(root, rel), content);
}

export type ProjectShape = 'class3' | 'no-data-card' | 'class1' | 'llama';

/** A project folder of the given shape; all under Apache-2.0 unless the shape says otherwise. */
export async function makeProject(shape: ProjectShape): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), `modelship-card-${shape}-`));
  await put(root, 'model.safetensors', Buffer.alloc(256, 1));
  await put(root, 'config.json', JSON.stringify({ architectures: ['LlamaForCausalLM'], model_type: 'llama', torch_dtype: 'bfloat16' }));
  await put(root, 'tokenizer.json', '{}');
  await put(root, 'docs/technical-report.md', '# Technical report\n');
  await put(root, 'eval_results.json', JSON.stringify({ results: { hellaswag: { 'acc,none': 0.41, 'acc_stderr,none': 0.01, alias: 'hellaswag' } } }));
  await put(root, 'README.md', shape === 'llama' ? MODEL_CARD.replace('license: apache-2.0', 'license: llama3.1') : MODEL_CARD);
  if (shape !== 'no-data-card') await put(root, 'DATACARD.md', '# Data card\n');
  if (shape !== 'llama') await put(root, 'LICENSE', APACHE_HEADER);
  if (shape === 'class1') {
    await put(root, 'modeling_tiny.py', '# the model\n');
    await put(root, 'train.py', '# training\n');
    await put(root, 'inference.py', '# inference\n');
    await put(root, 'evaluate.py', '# evaluation\n');
    await put(root, 'preprocess.py', '# data preparation\n');
    await put(root, 'data/train.jsonl', '{"text":"a"}\n');
    await put(root, 'data/LICENSE', CC_BY_4_HEADER);
    await put(root, 'eval/data/test.jsonl', '{"text":"b"}\n');
    await put(root, 'eval/data/LICENSE', CC_BY_4_HEADER);
    await put(root, 'checkpoints/step-1000/model.safetensors', Buffer.alloc(64, 2));
    await put(root, 'docs/paper.pdf', '%PDF-1.4\n');
  }
  return root;
}
