/**
 * The model card (README.md, Hugging Face format) and data card (DATACARD.md) for a project,
 * filled only from what the project states; everything else is a marked section for the engineer.
 */
import { stringify } from 'yaml';
import type { MofDerivation } from '../mof/derive.js';
import type { ProjectFacts } from '../mof/facts.js';
import { hfLicenseFor, normalizeLicenseId } from '../mof/licenses.js';
import { formatBytes } from '../../progress/index.js';
import { toModelIndex, type EvalResult } from './eval-results.js';

/** Marks a section modelship could not fill; `unfilledSections` finds them again. */
export function fillIn(prompt: string): string {
  return `<!-- modelship: fill in: ${prompt.replace(/--/g, '- -')} -->`;
}

export function unfilledSections(markdown: string): string[] {
  return [...markdown.matchAll(/<!-- modelship: fill in: ([\s\S]*?) -->/g)].map((m) => m[1]!.trim());
}

export interface CardInputs {
  facts: ProjectFacts;
  mof: MofDerivation;
  evalResults?: EvalResult[];
  /** Relative path of the evaluation results file the results came from. */
  evalFile?: string;
  /** File name of the badge written beside the card. */
  badgeFile?: string;
}

const PIPELINES: [string, string, string][] = [
  ['text', 'text', 'text-generation'],
  ['image', 'text', 'image-to-text'],
  ['text', 'image', 'text-to-image'],
  ['audio', 'text', 'automatic-speech-recognition'],
  ['text', 'audio', 'text-to-speech'],
  ['text', 'embedding', 'feature-extraction'],
];

function pipelineTag(facts: ProjectFacts): string | undefined {
  const fm = facts.frontMatter?.['pipeline_tag'];
  if (typeof fm === 'string') return fm;
  const input = facts.inputTypes ?? [];
  const output = facts.outputTypes ?? [];
  return PIPELINES.find(([i, o]) => input.includes(i) && output.includes(o))?.[2];
}

function libraryName(facts: ProjectFacts): string | undefined {
  const paths = facts.files.map((f) => f.path.toLowerCase());
  if (paths.some((p) => p.endsWith('.gguf'))) return 'gguf';
  if (paths.includes('config.json') && paths.some((p) => p.endsWith('.safetensors'))) return 'transformers';
  if (paths.some((p) => p.endsWith('.onnx'))) return 'onnx';
  return undefined;
}

/** The project licence as the card's `license:` (HF id, or `other` + license_name). */
function licenseFields(facts: ProjectFacts): Record<string, string> {
  const raw = facts.licenses[0];
  if (!raw) return {};
  const n = normalizeLicenseId(raw);
  if (!n.ok) return {};
  const hf = hfLicenseFor(n.id);
  return hf.licenseName ? { license: hf.license, license_name: hf.licenseName } : { license: hf.license };
}

/** Front matter: the existing README's keys stay; what the project states fills the gaps. */
export function modelCardFrontMatter(inputs: CardInputs): { data: Record<string, unknown>; warnings: string[] } {
  const { facts } = inputs;
  const existing = facts.frontMatter ?? {};
  const warnings: string[] = [];
  const derived: Record<string, unknown> = { ...licenseFields(facts) };
  if (facts.languages?.length) derived['language'] = facts.languages;
  const lib = libraryName(facts);
  if (lib) derived['library_name'] = lib;
  const tags = [facts.format, facts.architecture].filter((t): t is string => !!t);
  if (tags.length) derived['tags'] = tags;
  if (facts.datasets?.length) derived['datasets'] = facts.datasets.map((d) => d.name);
  const pipeline = pipelineTag(facts);
  if (pipeline) derived['pipeline_tag'] = pipeline;
  if (inputs.evalResults?.length) derived['model-index'] = toModelIndex(facts.name, inputs.evalResults, pipeline);
  const stated = existing['license'];
  if (typeof stated === 'string' && stated !== 'other' && !normalizeLicenseId(stated).ok) {
    warnings.push(`README front matter license "${stated}" is neither an SPDX id nor a Hugging Face licence id: use an SPDX id, or "other" with license_name`);
  }
  if (typeof existing['license'] === 'string' && derived['license'] && existing['license'] !== derived['license']) {
    warnings.push(`README front matter says license "${existing['license']}" but the project declares ${facts.licenses[0]}; the card keeps "${existing['license']}": make them agree`);
  }
  const order = ['license', 'license_name', 'license_link', 'language', 'library_name', 'tags', 'datasets', 'base_model', 'pipeline_tag', 'model-index'];
  const merged: Record<string, unknown> = { ...derived, ...existing };
  const data: Record<string, unknown> = {};
  for (const key of [...order, ...Object.keys(merged).filter((k) => !order.includes(k))]) {
    if (merged[key] !== undefined) data[key] = merged[key];
  }
  return { data, warnings };
}

function frontMatterBlock(data: Record<string, unknown>): string {
  const yaml = Object.keys(data).length ? stringify(data, { lineWidth: 0 }) : '';
  return `---\n${yaml}---\n`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The MOF section shared by both cards' readers. */
export function mofSection(mof: MofDerivation): string[] {
  const e = mof.evaluation;
  const pct = (n: number) => `${Math.round(n)}%`;
  const lines = [
    '## Model openness (MOF)', '',
    `Model Openness Framework: **${e.label}** (progress: Class III ${pct(e.progress['3'])}, Class II ${pct(e.progress['2'])}, Class I ${pct(e.progress['1'])}), as the Model Openness Tool evaluates the components below.`, '',
    '| Component | Class | Licence | Files |', '|---|---|---|---|',
    ...mof.components.map((c) => `| ${cell(c.name)} | ${'I'.repeat(c.class)} | ${cell(c.license)}${c.open ? '' : ' (not open)'} | ${cell(c.files.slice(0, 3).join(', '))}${c.files.length > 3 ? `, +${c.files.length - 3}` : ''} |`),
  ];
  if (mof.toAdd.length) {
    lines.push('', 'Still needed for the next classes:', '', ...mof.toAdd.map((m) => `- ${m.name} (Class ${'I'.repeat(m.class)}): ${m.hint}`));
  }
  return lines;
}

export function buildModelCard(inputs: CardInputs): { markdown: string; warnings: string[] } {
  const { facts, mof } = inputs;
  const { data, warnings } = modelCardFrontMatter(inputs);
  const weights = facts.files.filter((f) => mof.components.find((c) => c.name === 'Model parameters (Final)')?.files.includes(f.path));
  const detail = (label: string, value: string | undefined, prompt: string) => `- **${label}:** ${value ?? fillIn(prompt)}`;
  const out: string[] = [
    frontMatterBlock(data),
    `# ${facts.name}`, '',
  ];
  if (inputs.badgeFile) out.push(`![${mof.evaluation.label}](${inputs.badgeFile})`, '');
  out.push(facts.description ?? fillIn('one paragraph: what this model is and what it is for'), '',
    '## Model details', '',
    detail('Developed by', facts.producer, 'the people or organisation that made the model'),
    detail('Version', facts.version, 'the model version'),
    detail('Architecture', facts.architecture, 'the model architecture (e.g. transformer decoder)'),
    detail('Parameters', facts.paramSize, 'the number of parameters'),
    detail('Format', facts.format, 'the weight format'),
    detail('Licence', facts.licenses.join(', ') || undefined, 'the licence of the model (SPDX id)'),
    detail('Languages', facts.languages?.join(', '), 'the languages the model handles'),
    detail('Repository', facts.repository, 'where the source lives'),
    ...(facts.source ? [`- **Source:** \`${facts.source}\``] : []),
    detail('Base model', typeof data['base_model'] === 'string' ? data['base_model'] : undefined, 'the model this one was fine-tuned from, or "none" for a model trained from scratch; also set base_model in the front matter'),
    '',
    '## Uses', '',
    '### Direct use', '', fillIn('what the model is meant to be used for, and by whom'), '',
    '### Out-of-scope use', '', fillIn('uses the model is not suited or not allowed for'), '',
    '## Bias, risks and limitations', '', fillIn('known failure modes, biases and risks, and what users should do about them'), '',
    '## Training details', '',
    '### Training data', '',
  );
  if (facts.datasets?.length) {
    out.push(...facts.datasets.map((d) => `- ${d.name} (\`${d.path}\`${d.license ? `, ${d.license}` : ''})${d.description ? `: ${d.description}` : ''}`), '', 'See DATACARD.md for the data card.', '');
  } else {
    out.push(fillIn('the data the model was trained on, with links; describe it in DATACARD.md'), '');
  }
  out.push('### Training procedure', '', fillIn('how the model was trained: hardware, hyperparameters, duration'), '', '## Evaluation', '');
  if (inputs.evalResults?.length) {
    out.push(`Results from \`${inputs.evalFile ?? 'the evaluation results file'}\`:`, '', '| Task | Dataset | Metric | Value |', '|---|---|---|---|');
    for (const r of inputs.evalResults) {
      for (const m of r.metrics) out.push(`| ${cell(r.taskName ?? r.taskType ?? '')} | ${cell(r.datasetName)} | ${cell(m.name ?? m.type)} | ${cell(String(m.value))} |`);
    }
    out.push('', fillIn('how the evaluation was run and how to read these numbers'), '');
  } else {
    out.push(fillIn('evaluation results: add an eval_results.json (lm-evaluation-harness output or a list of {dataset, metric, value}) and run "modelship card" again'), '');
  }
  out.push(...mofSection(mof), '', '## Files', '', '| Path | Size |', '|---|---|',
    ...(weights.length ? weights : facts.files.filter((f) => f.kind === 'weight')).map((f) => `| \`${cell(f.path)}\` | ${formatBytes(f.size)} |`),
    '', '## Citation', '', fillIn('how to cite this model (BibTeX), or remove this section'), '');
  return { markdown: out.join('\n'), warnings };
}

export function buildDataCard(inputs: CardInputs): string {
  const { facts, mof } = inputs;
  const dataComponents = mof.components.filter((c) => c.name === 'Datasets' || c.name === 'Evaluation data');
  const licenses = [...new Set([...(facts.datasets ?? []).map((d) => d.license), ...dataComponents.map((c) => c.license)].filter((l): l is string => !!l && l !== 'unlicensed'))];
  const front: Record<string, unknown> = {};
  if (licenses.length === 1) Object.assign(front, (() => { const n = normalizeLicenseId(licenses[0]!); return n.ok ? { license: hfLicenseFor(n.id).license } : {}; })());
  if (facts.languages?.length) front['language'] = facts.languages;
  front['pretty_name'] = `${facts.name} data`;
  const out: string[] = [frontMatterBlock(front), `# Data card: ${facts.name}`, '',
    `The data used to train and evaluate ${facts.name}.`, ''];
  const sections = (used: string) => [
    '### Source', '', fillIn(`where this ${used} data comes from (URLs, owners) and how it was obtained`), '',
    '### Collection and preprocessing', '',
    ...(mof.components.find((c) => c.name === 'Data preprocessing code')
      ? [`Preprocessing code in this project: ${mof.components.find((c) => c.name === 'Data preprocessing code')!.files.map((f) => `\`${f}\``).join(', ')}.`, '']
      : []),
    fillIn('how the data was collected, filtered, cleaned and split'), '',
    '### Composition', '', fillIn('what an example looks like, how many there are, languages and domains covered'), '',
    '### Personal and sensitive information', '', fillIn('whether the data holds personal or sensitive information, and what was done about it'), '',
    '### Known limitations and biases', '', fillIn('gaps, skews and known problems of this data'), '',
  ];
  if (dataComponents.length === 0 && !facts.datasets?.length) {
    out.push('This project ships no dataset files.', '', '## Training data', '', ...sections('training'));
  }
  for (const c of dataComponents) {
    const files = facts.files.filter((f) => c.files.includes(f.path));
    out.push(`## ${c.name === 'Datasets' ? 'Training data' : 'Evaluation data'}`, '',
      `- **Licence:** ${c.license === 'unlicensed' ? fillIn('the licence of this data (SPDX id)') : c.license}`,
      `- **Files:** ${files.length} (${formatBytes(files.reduce((n, f) => n + f.size, 0))})`, '',
      '| Path | Size |', '|---|---|', ...files.slice(0, 50).map((f) => `| \`${cell(f.path)}\` | ${formatBytes(f.size)} |`),
      ...(files.length > 50 ? [`| … ${files.length - 50} more | |`] : []), '',
      ...sections(c.name === 'Datasets' ? 'training' : 'evaluation'));
  }
  return out.join('\n');
}
