/**
 * Evaluation results files: `eval_results.json|yaml|yml` holding `[{task, dataset, metric, value}]`
 * (or `{results: [...]}`), or a Hugging Face `model-index` document.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ModelshipError } from '../errors/index.js';
import type { EvaluationResult } from './input.js';
import { modelIndexResults } from './model-card.js';

export const EVALUATION_FILES = ['eval_results.json', 'eval_results.yaml', 'eval_results.yml'];

/** Parses an evaluation file's text; `file` names it in errors. */
export function parseEvaluation(text: string, file: string): EvaluationResult[] {
  let doc: unknown;
  try {
    doc = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ModelshipError('SBOM_INVALID', `${file}: does not parse (${(err as Error).message.split('\n')[0]}); fix the file`, { cause: err });
  }
  const record = doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>) : undefined;
  if (record && 'model-index' in record) return modelIndexResults(record['model-index'], file);
  const rows = Array.isArray(doc) ? doc : record?.['results'];
  if (!Array.isArray(rows)) {
    throw new ModelshipError('SBOM_INVALID', `${file}: expected a list of {task, dataset, metric, value} (or {results: [...]}, or a model-index)`);
  }
  return rows.map((row: unknown, i) => {
    const r = (row ?? {}) as Record<string, unknown>;
    const metric = r['metric'];
    const value = r['value'];
    if (typeof metric !== 'string' || metric === '') throw new ModelshipError('SBOM_INVALID', `${file}: results[${i}].metric must be a non-empty string`);
    if (typeof value !== 'number' && typeof value !== 'string') throw new ModelshipError('SBOM_INVALID', `${file}: results[${i}].value must be a number or a string`);
    const out: EvaluationResult = { metric, value };
    if (typeof r['task'] === 'string') out.task = r['task'];
    if (typeof r['dataset'] === 'string') out.dataset = r['dataset'];
    return out;
  });
}

/** The first evaluation file found in `dir`, or undefined. */
export async function readEvaluationFile(dir: string): Promise<{ file: string; results: EvaluationResult[] } | undefined> {
  for (const name of EVALUATION_FILES) {
    const abs = path.join(dir, name);
    if (existsSync(abs)) return { file: name, results: parseEvaluation(await readFile(abs, 'utf8'), name) };
  }
  return undefined;
}
