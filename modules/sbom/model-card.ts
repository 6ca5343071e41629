/**
 * What an SBOM takes from a Hugging Face style README: the front matter (pipeline_tag, license,
 * datasets, model-index, parsed by modules/card) and the considerations sections of the body.
 */
import { fromModelIndex, parseCard, type EvalResult } from '../card/index.js';
import type { EvaluationResult, ModelCardInfo, ModelConsiderations } from './input.js';

export interface ReadmeFacts {
  card: ModelCardInfo;
  /** Results from the front matter's `model-index`. */
  evaluation: EvaluationResult[];
}

const strings = (v: unknown): string[] | undefined =>
  v === undefined || v === null ? undefined : (Array.isArray(v) ? v : [v]).filter((x) => typeof x === 'string' || typeof x === 'number').map(String);

/** One row per metric, as both SBOM formats list them. */
export function evaluationRows(results: readonly EvalResult[]): EvaluationResult[] {
  return results.flatMap((r) =>
    r.metrics.map((m) => {
      const task = r.taskType ?? r.taskName;
      return { metric: m.name ?? m.type, value: m.value, ...(task ? { task } : {}), ...(r.datasetName !== 'unknown' ? { dataset: r.datasetName } : {}) };
    }),
  );
}

/** Reads a README; broken front matter throws CARD_INVALID naming the file and line. */
export function readReadme(text: string, file = 'README.md'): ReadmeFacts {
  const { frontMatter: data, body } = parseCard(text, file);
  const card: ModelCardInfo = {};
  if (typeof data['pipeline_tag'] === 'string') card.pipelineTag = data['pipeline_tag'];
  const license = strings(data['license']);
  if (license?.length) card.license = license.join(' AND ');
  const set = <K extends 'languages' | 'datasets' | 'baseModel' | 'tags'>(key: K, v: string[] | undefined) => {
    if (v?.length) card[key] = v;
  };
  set('languages', strings(data['language']));
  set('datasets', strings(data['datasets']));
  set('baseModel', strings(data['base_model']));
  set('tags', strings(data['tags']));
  const considerations = readConsiderations(body);
  if (Object.keys(considerations).length) card.considerations = considerations;
  return { card, evaluation: evaluationRows(fromModelIndex(data['model-index'])) };
}

const SECTIONS: { field: keyof ModelConsiderations; heading: RegExp }[] = [
  { field: 'ethicalConsiderations', heading: /ethic|bias|risk|fairness/i },
  { field: 'technicalLimitations', heading: /limitation|out[- ]of[- ]scope/i },
  { field: 'useCases', heading: /^(intended |direct |downstream )?uses?$|use cases?|intended use/i },
  { field: 'users', heading: /intended users|who (should|can) use/i },
];

/** Bullets of a section become items; a section without bullets gives its paragraphs. */
function readConsiderations(body: string): ModelConsiderations {
  const out: ModelConsiderations = {};
  let current: keyof ModelConsiderations | undefined;
  let level = 0;
  const collected = new Map<keyof ModelConsiderations, string[]>();
  for (const line of body.split(/\r?\n/)) {
    const h = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) {
      const depth = h[1]!.length;
      if (current && depth > level) continue; // a sub-heading stays in its section
      current = SECTIONS.find((s) => s.heading.test(h[2]!))?.field;
      level = depth;
      continue;
    }
    if (current) collected.set(current, [...(collected.get(current) ?? []), line]);
  }
  for (const [field, sectionLines] of collected) {
    const items = sectionItems(sectionLines);
    if (items.length) out[field] = [...(out[field] ?? []), ...items];
  }
  return out;
}

function sectionItems(lines: string[]): string[] {
  const placeholder = (s: string) => /^\[?more information needed\]?$/i.test(s) || s === '';
  const bullets = lines.map((l) => /^\s*[-*+]\s+(.*)$/.exec(l)?.[1]?.trim()).filter((x): x is string => x !== undefined && !placeholder(x));
  if (bullets.length) return bullets;
  return lines
    .join('\n')
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter((p) => !placeholder(p) && !p.startsWith('<!--'));
}
