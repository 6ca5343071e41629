/**
 * `modelship mof classify`: a MOT YAML file in, the MOT's verdict out.
 */
import { evaluateMot, type MofEvaluation } from './evaluate.js';
import { parseMotYaml, type MotDocument } from './mot-document.js';

/** Classify a MOT model file given as YAML text (named `file` in errors) or already parsed. */
export function classifyMot(input: string | MotDocument, file?: string): MofEvaluation {
  const doc = typeof input === 'string' ? parseMotYaml(input, file) : input;
  return evaluateMot(doc);
}
