/**
 * What an SBOM takes from a Hugging Face style README: the YAML front matter (pipeline_tag,
 * license, datasets, model-index) and the considerations sections of the body.
 */
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ModelshipError } from '../errors/index.js';
import type { EvaluationResult, ModelCardInfo, ModelConsiderations } from './input.js';

export interface ReadmeFacts {
  card: ModelCardInfo;
  /** Results from the front matter's `model-index`. */
  evaluation: EvaluationResult[];
}

/** Splits `---\n<yaml>\n---\n<body>`; no front matter gives `{}`. */
export function splitFrontMatter(text: string, file: string): { data: Record<string, unknown>; body: string; bodyLine: number } {
  const m = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/.exec(text);
  if (!m) return { data: {}, body: text, bodyLine: 1 };
  let data: unknown;
  try {
    data = parseYaml(m[1]!);
  } catch (err) {
    const line = err instanceof YAMLParseError && err.linePos ? `:${err.linePos[0].line + 1}` : '';
    throw new ModelshipError('SBOM_INVALID', `${file}${line}: the YAML front matter does not parse (${(err as Error).message.split('\n')[0]}); fix it or remove it`, { cause: err });
  }
  if (data !== null && data !== undefined && (typeof data !== 'object' || Array.isArray(data))) {
    throw new ModelshipError('SBOM_INVALID', `${file}:2: the front matter must be a YAML mapping (key: value lines)`);
  }
  return { data: (data ?? {}) as Record<string, unknown>, body: text.slice(m[0].length), bodyLine: m[0].split('\n').length };
}

const strings = (v: unknown): string[] | undefined =>
  v === undefined || v === null ? undefined : (Array.isArray(v) ? v : [v]).filter((x) => typeof x === 'string' || typeof x === 'number').map(String);

export function readReadme(text: string, file = 'README.md'): ReadmeFacts {
  const { data, body } = splitFrontMatter(text, file);
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
  return { card, evaluation: modelIndexResults(data['model-index'], file) };
}

/** Hugging Face `model-index: [{name, results: [{task, dataset, metrics: [{type, value}]}]}]`. */
export function modelIndexResults(modelIndex: unknown, file: string): EvaluationResult[] {
  if (modelIndex === undefined || modelIndex === null) return [];
  if (!Array.isArray(modelIndex)) throw new ModelshipError('SBOM_INVALID', `${file}: model-index must be a list of {name, results}`);
  const out: EvaluationResult[] = [];
  modelIndex.forEach((entry: { results?: unknown }, i) => {
    const results = Array.isArray(entry?.results) ? entry.results : [];
    results.forEach((r: { task?: { type?: string; name?: string }; dataset?: { name?: string; type?: string }; metrics?: unknown }, j: number) => {
      const metrics = Array.isArray(r?.metrics) ? r.metrics : [];
      for (const m of metrics as { type?: string; name?: string; value?: unknown }[]) {
        const metric = m?.type ?? m?.name;
        if (!metric || (typeof m.value !== 'number' && typeof m.value !== 'string')) {
          throw new ModelshipError('SBOM_INVALID', `${file}: model-index[${i}].results[${j}].metrics needs a type and a numeric or string value for each metric`);
        }
        const task = r.task?.type ?? r.task?.name;
        const dataset = r.dataset?.name ?? r.dataset?.type;
        out.push({ metric, value: m.value, ...(task ? { task } : {}), ...(dataset ? { dataset } : {}) });
      }
    });
  });
  return out;
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
  const lines = body.split(/\r?\n/);
  let current: keyof ModelConsiderations | undefined;
  let level = 0;
  const collected = new Map<keyof ModelConsiderations, string[]>();
  for (const line of lines) {
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
