/**
 * Evaluation results files, read with modules/card's parser (lm-evaluation-harness output, a
 * Hugging Face model-index, or a list of {task, dataset, metric, value}) as one row per metric.
 */
import { requireInsideProject } from '../fs/inside.js';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseEvalResults } from '../card/index.js';
import type { EvaluationResult } from './input.js';
import { evaluationRows } from './model-card.js';

/** Looked for in the project root, in this order. */
export const EVALUATION_FILES = ['eval_results.json', 'eval_results.yaml', 'eval_results.yml', 'evaluation_results.json', 'evaluation_results.yaml'];

/** Parses an evaluation file's text; `file` names it in errors (CARD_INVALID). */
export function parseEvaluation(text: string, file: string): EvaluationResult[] {
  return evaluationRows(parseEvalResults(text, file));
}

/** The first evaluation file found in `dir`, or undefined. */
export async function readEvaluationFile(dir: string): Promise<{ file: string; results: EvaluationResult[] } | undefined> {
  for (const name of EVALUATION_FILES) {
    const abs = path.join(dir, name);
    if (!existsSync(abs)) continue;
    await requireInsideProject(dir, abs, name);
    return { file: name, results: parseEvaluation(await readFile(abs, 'utf8'), name) };
  }
  return undefined;
}
