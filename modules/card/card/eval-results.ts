/**
 * Evaluation results files as projects keep them, read into one shape and written as the
 * Hugging Face `model-index`: lm-evaluation-harness output ({results: {task: {"acc,none": n}}}),
 * an existing model-index, or a plain list of {task, dataset, metric, value}.
 */
import { parse as parseYaml } from 'yaml';
import { cardError } from './front-matter.js';

export interface EvalMetric {
  type: string;
  value: number | string;
  name?: string;
}

export interface EvalResult {
  /** Hugging Face task type (e.g. text-generation), when the file says it. */
  taskType?: string;
  taskName?: string;
  datasetName: string;
  datasetType: string;
  split?: string;
  metrics: EvalMetric[];
}

const EVAL_FILE = /(^|\/)([^/]*(eval|evaluation)[^/]*(result|score|metric)s?[^/]*|results|metrics)\.(json|ya?ml)$/i;

export function isEvalResultsFile(relPath: string): boolean {
  return EVAL_FILE.test(relPath);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Results from an HF model-index list. */
export function fromModelIndex(index: unknown): EvalResult[] {
  const out: EvalResult[] = [];
  if (!Array.isArray(index)) return out;
  for (const entry of index) {
    if (!isRecord(entry) || !Array.isArray(entry['results'])) continue;
    for (const r of entry['results']) {
      if (!isRecord(r)) continue;
      const task = isRecord(r['task']) ? r['task'] : {};
      const dataset = isRecord(r['dataset']) ? r['dataset'] : {};
      const metrics = (Array.isArray(r['metrics']) ? r['metrics'] : []).filter(isRecord).map((m) => {
        const metric: EvalMetric = { type: String(m['type'] ?? m['name'] ?? 'metric'), value: typeof m['value'] === 'number' ? m['value'] : String(m['value']) };
        if (typeof m['name'] === 'string') metric.name = m['name'];
        return metric;
      });
      const res: EvalResult = { datasetName: String(dataset['name'] ?? dataset['type'] ?? 'unknown'), datasetType: String(dataset['type'] ?? dataset['name'] ?? 'unknown'), metrics };
      if (typeof task['type'] === 'string') res.taskType = task['type'];
      if (typeof task['name'] === 'string') res.taskName = task['name'];
      if (typeof dataset['split'] === 'string') res.split = dataset['split'];
      out.push(res);
    }
  }
  return out;
}

/** Parse an evaluation results file (JSON or YAML text); `file` names it in errors. */
export function parseEvalResults(text: string, file: string): EvalResult[] {
  let data: unknown;
  try {
    data = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw cardError(file, undefined, `evaluation results are not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (isRecord(data) && Array.isArray(data['model-index'])) return fromModelIndex(data['model-index']);
  if (Array.isArray(data) && data.some((e) => isRecord(e) && Array.isArray(e['results']))) return fromModelIndex(data);
  // lm-evaluation-harness: results keyed by task, metrics named "<metric>,<filter>".
  if (isRecord(data) && isRecord(data['results'])) {
    const out: EvalResult[] = [];
    for (const [task, values] of Object.entries(data['results'])) {
      if (!isRecord(values)) continue;
      const metrics: EvalMetric[] = [];
      for (const [key, value] of Object.entries(values)) {
        if (typeof value !== 'number' || /_stderr/.test(key)) continue;
        const [metric, filter] = key.split(',');
        metrics.push({ type: metric!, value, ...(filter && filter !== 'none' ? { name: `${metric} (${filter})` } : {}) });
      }
      if (metrics.length) out.push({ taskName: task, datasetName: typeof values['alias'] === 'string' ? values['alias'] : task, datasetType: task, metrics });
    }
    return out;
  }
  const list = isRecord(data) && Array.isArray(data['results']) ? data['results'] : Array.isArray(data) ? data : undefined;
  if (list) {
    const out: EvalResult[] = [];
    list.forEach((e, i) => {
      if (!isRecord(e) || e['value'] === undefined || (e['dataset'] === undefined && e['task'] === undefined)) {
        throw cardError(file, undefined, `results[${i}] needs "dataset" (or "task"), "metric" and "value"`);
      }
      const dataset = String(e['dataset'] ?? e['task']);
      const res: EvalResult = { datasetName: dataset, datasetType: String(e['dataset_type'] ?? dataset), metrics: [{ type: String(e['metric'] ?? 'score'), value: e['value'] as number | string }] };
      if (typeof e['task'] === 'string') res.taskName = e['task'];
      if (typeof e['task_type'] === 'string') res.taskType = e['task_type'];
      if (typeof e['split'] === 'string') res.split = e['split'];
      out.push(res);
    });
    return out;
  }
  throw cardError(file, undefined, 'unrecognised evaluation results: expected lm-evaluation-harness output ({"results": {task: {metric: value}}}), a Hugging Face model-index, or a list of {dataset, metric, value}');
}

/** The Hugging Face `model-index` for these results. */
export function toModelIndex(modelName: string, results: EvalResult[], pipelineTag?: string): unknown[] {
  return [{
    name: modelName,
    results: results.map((r) => {
      const task: Record<string, string> = {};
      const type = r.taskType ?? pipelineTag;
      if (type) task['type'] = type;
      if (r.taskName) task['name'] = r.taskName;
      const dataset: Record<string, string> = { name: r.datasetName, type: r.datasetType };
      if (r.split) dataset['split'] = r.split;
      return { task, dataset, metrics: r.metrics.map((m) => ({ type: m.type, value: m.value, ...(m.name ? { name: m.name } : {}) })) };
    }),
  }];
}
