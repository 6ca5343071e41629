/**
 * MOF components found in a project: each file is matched to the components it provides by its
 * name, place and kind, each component gets the licence of its files (their own, the nearest
 * LICENSE file, or the project's), and the result is a MOT YAML evaluated as the MOT would.
 */
import path from 'node:path';
import { ModelshipError } from '../../errors/index.js';
import { isEvalResultsFile } from '../card/eval-results.js';
import { MOF_COMPONENTS, componentByName, type MofClass } from './components.js';
import { evaluateMot, type MofEvaluation } from './evaluate.js';
import type { ProjectFacts, ProjectFile } from './facts.js';
import { isLicenseFileName } from './license-file.js';
import { chooseFromExpression, isOpenLicense, normalizeLicenseId } from './licenses.js';
import { motYamlText, type MotComponent, type MotDocument } from './mot-document.js';

const CODE = /\.(py|ipynb|sh|js|mjs|ts|jl|r|rs|go|c|cc|cpp|cu|h|hpp|java|scala|lua|swift|kt)$/i;
const WEIGHTS = /\.(safetensors|gguf|ggml|onnx|pt|pth|ckpt|bin|h5|keras|msgpack|tflite|mlmodel|pb|npz|nemo)$/i;
const DATA = /\.(jsonl|json|parquet|arrow|csv|tsv|txt|tfrecord|npy|npz|zst|gz|tar|zip|wav|flac|mp3|png|jpe?g|webp|h5|hdf5|feather|avro)$/i;
const DOC = /\.(md|pdf|tex|html?|txt|rst|docx?)$/i;
const METADATA_FILE = /^(training_args\.(json|bin|ya?ml)|trainer_state\.json|optimizer\.(pt|bin|safetensors)|scheduler\.pt|rng_state.*\.pth|hparams?\.(json|ya?ml)|hyperparameters?\.(json|ya?ml)|train(ing)?_config.*\.(json|ya?ml))$/i;
const CHECKPOINT_DIR = /^(checkpoints?|intermediate|ckpts?|(checkpoint|step|global_step|iter)[-_]?\d+)$/i;
const EVAL_DIR = /^(evals?|evaluation|benchmarks?)$/i;
const EVAL_DATA_WORD = /(^|[-_/.])(eval|evaluation|test|valid|validation|dev|benchmark)s?([-_/.]|$)/i;
const DATA_DIR = /^(data|datasets?|corpus)$/i;

/** The MOF component names one file provides. */
export function componentsOfFile(file: ProjectFile): string[] {
  const p = file.path;
  const lower = p.toLowerCase();
  const base = path.posix.basename(lower);
  const dirs = lower.split('/').slice(0, -1);
  const inDir = (re: RegExp) => dirs.some((d) => re.test(d));
  const out = new Set<string>();
  if (isLicenseFileName(base)) return [];

  if (METADATA_FILE.test(base)) out.add('Model metadata');
  else if (file.kind === 'weight' || (file.kind === undefined && WEIGHTS.test(base) && !inDir(DATA_DIR))) {
    out.add(inDir(CHECKPOINT_DIR) ? 'Model parameters (Intermediate)' : 'Model parameters (Final)');
  }
  if (base === 'config.json' && !inDir(CHECKPOINT_DIR) && !inDir(DATA_DIR)) out.add('Model architecture');
  if (CODE.test(base)) {
    if (/^(modeling_|configuration_)|^model\.py$|architecture/.test(base) || inDir(/^(models?|architecture|modeling)$/)) out.add('Model architecture');
    if (/(^|[-_])(train|training|finetune|fine_tune|pretrain|sft|dpo|rlhf)([-_.]|$)/.test(base) || inDir(/^(train|training|finetune|finetuning)$/)) out.add('Training code');
    if (/(^|[-_])(infer|inference|predict|generate|generation|serve|server|chat|app)([-_.]|$)/.test(base) || inDir(/^(inference|serving|serve)$/)) out.add('Inference code');
    if (/(^|[-_])(eval|evaluate|evaluation|benchmark|score)([-_.]|$)/.test(base) || inDir(EVAL_DIR)) out.add('Evaluation code');
    if (/(^|[-_])(preprocess|preprocessing|prepare|prep|clean|tokenize|augment|dedup|build_dataset|make_dataset)([-_.]|$)/.test(base) || inDir(/^(preprocessing|preprocess|data_prep|data)$/)) out.add('Data preprocessing code');
    if (inDir(/^(lib|libs|tools|utils)$/)) out.add('Supporting libraries and tools');
  }
  const evalData = EVAL_DATA_WORD.test(lower);
  if (isEvalResultsFile(p)) out.add('Evaluation results');
  else if (file.kind === 'dataset' || (file.kind === undefined && DATA.test(base) && inDir(DATA_DIR))) {
    out.add(evalData ? 'Evaluation data' : 'Datasets');
  } else if (file.kind === undefined && DATA.test(base) && inDir(EVAL_DIR) && !/result|metric|score/.test(base)) {
    out.add('Evaluation data');
  }
  if (/^(data_?card|dataset_?card|data-card|dataset-card)\.md$/.test(base) || (base === 'readme.md' && inDir(DATA_DIR))) out.add('Data card');
  else if (dirs.length === 0 && /^(readme|model_?card|model-card)\.md$/.test(base)) out.add('Model card');
  if (DOC.test(base)) {
    if (/tech(nical)?[-_ ]?report|(^|[-_])report([-_.]|$)/.test(base)) out.add('Technical report');
    if (/(^|[-_])(paper|arxiv|preprint)([-_.]|$)/.test(base)) out.add('Research paper');
  }
  if (inDir(/^(samples?|sample_outputs|outputs|generations)$/) || /sample[-_]?outputs?/.test(base)) out.add('Sample model outputs');
  return [...out];
}

export interface DerivedComponent {
  name: string;
  class: MofClass;
  required: boolean;
  files: string[];
  /** SPDX id the MOT sees ("unlicensed" when nothing declares one). */
  license: string;
  /** Where that licence came from. */
  licenseFrom: string;
  open: boolean;
}

export interface MissingComponent {
  name: string;
  class: MofClass;
  /** Why it does not count: absent, or present without an open licence. */
  reason: 'absent' | 'not open' | 'unlicensed';
  /** One line: what to add. */
  hint: string;
}

export interface MofDerivation {
  evaluation: MofEvaluation;
  components: DerivedComponent[];
  /** Components the next classes still need, highest class first. */
  toAdd: MissingComponent[];
  document: MotDocument;
  /** The MOT-importable YAML. */
  motYaml: string;
  warnings: string[];
}

function spdxOrThrow(raw: string, where: string): string {
  const ids = raw.split(/\s+(?:OR|AND|WITH)\s+|[()]/).map((s) => s.trim()).filter(Boolean);
  let out = raw.trim();
  for (const id of ids) {
    const n = normalizeLicenseId(id);
    if (!n.ok) {
      throw new ModelshipError('CARD_LICENSE_UNKNOWN', `${where}: ${n.message}`, { details: { license: n.input, where } });
    }
    if (n.from) out = out.replace(id, n.id);
  }
  return out;
}

/** The licence of one file: its own, else the nearest LICENSE file above it, else the project's. */
function licenseOfFile(file: ProjectFile, facts: ProjectFacts, project: { id: string; from: string } | undefined): { id: string; from: string } | undefined {
  if (file.license) return { id: spdxOrThrow(file.license, file.licenseSource ?? file.path), from: file.licenseSource ?? file.path };
  const dirs = file.path.split('/').slice(0, -1);
  for (let n = dirs.length; n > 0; n--) {
    const dir = dirs.slice(0, n).join('/');
    const lic = facts.files.find((f) => f.declares && path.posix.dirname(f.path) === dir);
    if (lic?.declares) return { id: lic.declares, from: lic.path };
  }
  return project;
}

const TODAY = () => new Date().toISOString().slice(0, 10);

/** Derive the MOF components, the MOT YAML and the MOT's verdict for a project. */
export function deriveMof(facts: ProjectFacts, opts: { date?: string } = {}): MofDerivation {
  const warnings: string[] = [];
  const projectRaw = facts.licenses[0];
  const project = projectRaw ? { id: spdxOrThrow(projectRaw, facts.licensesSource ?? 'project licence'), from: facts.licensesSource ?? 'project licence' } : undefined;
  const filesBy = new Map<string, ProjectFile[]>();
  for (const f of facts.files) {
    for (const name of componentsOfFile(f)) filesBy.set(name, [...(filesBy.get(name) ?? []), f]);
  }
  const modelIndex = facts.frontMatter?.['model-index'];
  const hasModelIndex = Array.isArray(modelIndex) && modelIndex.length > 0;
  const readme = facts.files.find((f) => /^readme\.md$/i.test(f.path));
  if (hasModelIndex && readme && !filesBy.has('Evaluation results')) filesBy.set('Evaluation results', [readme]);

  const components: DerivedComponent[] = [];
  const motComponents: MotComponent[] = [];
  for (const spec of MOF_COMPONENTS) {
    const files = filesBy.get(spec.name);
    if (!files?.length) continue;
    const licenses = files.map((f) => licenseOfFile(f, facts, project));
    // One licence per component for the MOT: the first that is not open wins, so nothing is overstated.
    const resolved = licenses.map((l) => l && { ...l, id: chooseFromExpression(l.id, spec.contentType) });
    const weakest = resolved.findIndex((l) => !l || !isOpenLicense(l.id));
    const chosen = resolved[weakest >= 0 ? weakest : 0];
    const license = chosen?.id ?? 'unlicensed';
    if (!chosen) warnings.push(`${spec.name}: no licence declared for ${files[0]!.path}; add one in the spec or a LICENSE file beside it`);
    components.push({ name: spec.name, class: spec.class, required: spec.required, files: files.map((f) => f.path), license, licenseFrom: chosen?.from ?? 'none', open: isOpenLicense(license) });
    const mc: MotComponent = { id: spec.id, name: spec.name, description: spec.description, license, component_path: files[0]!.path };
    if (chosen && chosen.from !== files[0]!.path) mc.license_path = chosen.from;
    motComponents.push(mc);
  }

  const document: MotDocument = {
    framework: { name: 'Model Openness Framework', version: '1.0', date: '2024-12-15' },
    release: {
      name: facts.name,
      version: facts.version ?? '',
      date: opts.date ?? TODAY(),
      type: '',
      architecture: '',
      origin: '',
      producer: facts.producer ?? '',
      contact: '',
      license: project ? { distribution: { name: project.id, path: project.from } } : {},
      components: motComponents,
    },
  };
  if (facts.repository) document.release.repository = facts.repository;
  const evaluation = evaluateMot(document);
  for (const name of evaluation.notTypeAppropriate) {
    warnings.push(`${name}: licence ${evaluation.licenses[name]} is open but not meant for ${componentByName(name)!.contentType}; the MOT counts it with a warning`);
  }
  return { evaluation, components, toAdd: whatToAdd(evaluation, components), document, motYaml: motYamlText(document), warnings };
}

/** For each class above the one reached, the required components that do not count yet. */
function whatToAdd(evaluation: MofEvaluation, components: DerivedComponent[]): MissingComponent[] {
  const out: MissingComponent[] = [];
  const seen = new Set<string>();
  for (const cls of [3, 2, 1] as const) {
    if (evaluation.class !== 0 && evaluation.class <= cls) continue;
    const key = String(cls) as '1' | '2' | '3';
    const notCounted = [...evaluation.missing[key], ...evaluation.invalid[key], ...evaluation.unlicensed[key]];
    for (const name of notCounted) {
      const spec = componentByName(name)!;
      if (seen.has(name) || !spec.required) continue;
      seen.add(name);
      const have = components.find((c) => c.name === name);
      const reason: MissingComponent['reason'] = !have ? 'absent' : have.license === 'unlicensed' ? 'unlicensed' : 'not open';
      const hint = reason === 'absent' ? spec.hint
        : reason === 'unlicensed' ? `declare an open licence for ${have!.files[0]} (spec files[].license or a LICENSE file beside it)`
          : `${have!.files[0]} is under ${have!.license}, which is not an open licence: release it under an OSI/FSF or open-data licence`;
      out.push({ name, class: spec.class, reason, hint });
    }
  }
  return out;
}
