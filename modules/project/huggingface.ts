/**
 * What a Hugging Face model folder says about itself: config.json and the README's YAML front
 * matter (the model card metadata), mapped onto ModelPack fields.
 */
import { loadYaml } from '../fs/lazy-packages.js';

/**
 * Hugging Face `license:` ids and the SPDX ids they stand for: lower-case SPDX ids, HF's short
 * names (gpl, odc-by...), and model licences SPDX does not list, as LicenseRef- ids.
 */
export const HF_LICENSE_IDS: Readonly<Record<string, string>> = {
  'apache-2.0': 'Apache-2.0', mit: 'MIT', 'bsd-2-clause': 'BSD-2-Clause', 'bsd-3-clause': 'BSD-3-Clause', 'bsd-3-clause-clear': 'BSD-3-Clause-Clear',
  'cc0-1.0': 'CC0-1.0', 'cc-by-2.0': 'CC-BY-2.0', 'cc-by-3.0': 'CC-BY-3.0', 'cc-by-4.0': 'CC-BY-4.0', 'cc-by-sa-3.0': 'CC-BY-SA-3.0',
  'cc-by-sa-4.0': 'CC-BY-SA-4.0', 'cc-by-nc-2.0': 'CC-BY-NC-2.0', 'cc-by-nc-3.0': 'CC-BY-NC-3.0', 'cc-by-nc-4.0': 'CC-BY-NC-4.0',
  'cc-by-nd-4.0': 'CC-BY-ND-4.0', 'cc-by-nc-nd-4.0': 'CC-BY-NC-ND-4.0', 'cc-by-nc-sa-4.0': 'CC-BY-NC-SA-4.0',
  'gpl-2.0': 'GPL-2.0-only', 'gpl-3.0': 'GPL-3.0-only', gpl: 'GPL-3.0-or-later', 'lgpl-2.1': 'LGPL-2.1-only', 'lgpl-3.0': 'LGPL-3.0-only',
  lgpl: 'LGPL-3.0-or-later', 'agpl-3.0': 'AGPL-3.0-only', gfdl: 'GFDL-1.3-or-later',
  'mpl-2.0': 'MPL-2.0', 'epl-2.0': 'EPL-2.0', 'ecl-2.0': 'ECL-2.0', 'afl-3.0': 'AFL-3.0', 'artistic-2.0': 'Artistic-2.0', 'bsl-1.0': 'BSL-1.0',
  'osl-3.0': 'OSL-3.0', unlicense: 'Unlicense', wtfpl: 'WTFPL', zlib: 'Zlib', isc: 'ISC', 'odc-by': 'ODC-By-1.0', odbl: 'ODbL-1.0', pddl: 'PDDL-1.0',
  'cdla-permissive-2.0': 'CDLA-Permissive-2.0', 'cdla-sharing-1.0': 'CDLA-Sharing-1.0', 'c-uda': 'C-UDA-1.0',
  cc: 'LicenseRef-cc',
  openrail: 'LicenseRef-openrail',
  'openrail++': 'LicenseRef-openrail-plusplus',
  'creativeml-openrail-m': 'LicenseRef-creativeml-openrail-m',
  'bigscience-openrail-m': 'LicenseRef-bigscience-openrail-m',
  'bigscience-bloom-rail-1.0': 'LicenseRef-bigscience-bloom-rail-1.0',
  'bigcode-openrail-m': 'LicenseRef-bigcode-openrail-m',
  llama2: 'LicenseRef-llama2',
  llama3: 'LicenseRef-llama3',
  'llama3.1': 'LicenseRef-llama3.1',
  'llama3.2': 'LicenseRef-llama3.2',
  'llama3.3': 'LicenseRef-llama3.3',
  llama4: 'LicenseRef-llama4',
  gemma: 'LicenseRef-gemma',
  'deepfloyd-if-license': 'LicenseRef-deepfloyd-if-license',
  'intel-research': 'LicenseRef-intel-research',
  'lgpl-lr': 'LicenseRef-lgpl-lr',
  'apple-ascl': 'LicenseRef-apple-ascl',
  'apple-amlr': 'LicenseRef-apple-amlr',
  'h-research': 'LicenseRef-h-research',
  'fair-noncommercial-research-license': 'LicenseRef-fair-noncommercial-research-license',
};

/**
 * SPDX for a Hugging Face license id: known ids map to SPDX, model licenses with no SPDX id
 * (llama3.1, gemma, openrail...) become LicenseRef-<id>. `other` uses license_name when given.
 */
export function hfLicenseToSpdx(id: string, licenseName?: string): string {
  const key = id.trim().toLowerCase();
  const known = HF_LICENSE_IDS[key];
  if (known) return known;
  if (key === 'other' && licenseName) return `LicenseRef-${licenseName.replace(/[^A-Za-z0-9.-]+/g, '-')}`;
  return `LicenseRef-${id.trim().replace(/\+/g, 'plus').replace(/[^A-Za-z0-9.-]+/g, '-')}`;
}

export interface HfConfigFacts {
  architecture?: string;
  className?: string;
  precision?: string;
  quantization?: string;
  contextLength?: number;
}

const PRECISION_BY_TORCH_DTYPE: Record<string, string> = { bfloat16: 'bf16', float16: 'fp16', float32: 'fp32', float64: 'fp64', int8: 'int8' };

/** Facts from a transformers config.json. */
export function readHfConfig(json: unknown): HfConfigFacts {
  if (typeof json !== 'object' || json === null) return {};
  const c = json as Record<string, unknown>;
  const facts: HfConfigFacts = {};
  if (typeof c['model_type'] === 'string') facts.architecture = c['model_type'];
  const archs = c['architectures'];
  if (Array.isArray(archs) && typeof archs[0] === 'string') {
    facts.className = archs[0];
    facts.architecture ??= archs[0];
  }
  const dtype = c['torch_dtype'] ?? c['dtype'];
  if (typeof dtype === 'string') facts.precision = PRECISION_BY_TORCH_DTYPE[dtype] ?? dtype;
  const q = c['quantization_config'];
  if (q && typeof q === 'object') {
    const method = (q as Record<string, unknown>)['quant_method'];
    const bits = (q as Record<string, unknown>)['bits'];
    if (typeof method === 'string') facts.quantization = typeof bits === 'number' ? `${method}-int${bits}` : method;
  }
  const ctx = c['max_position_embeddings'];
  if (typeof ctx === 'number') facts.contextLength = ctx;
  return facts;
}

export interface ModelCardFacts {
  license?: string;
  baseModel?: string[];
  languages?: string[];
  pipelineTag?: string;
  datasets?: string[];
  inputTypes?: string[];
  outputTypes?: string[];
}

/** pipeline_tag → ModelPack modalities (input, output). */
const MODALITIES: Record<string, [string[], string[]]> = {
  'text-generation': [['text'], ['text']],
  'text2text-generation': [['text'], ['text']],
  'image-text-to-text': [['text', 'image'], ['text']],
  'visual-question-answering': [['text', 'image'], ['text']],
  'image-to-text': [['image'], ['text']],
  'text-to-image': [['text'], ['image']],
  'image-to-image': [['image'], ['image']],
  'automatic-speech-recognition': [['audio'], ['text']],
  'text-to-speech': [['text'], ['audio']],
  'text-to-audio': [['text'], ['audio']],
  'feature-extraction': [['text'], ['embedding']],
  'sentence-similarity': [['text'], ['embedding']],
  'text-to-video': [['text'], ['video']],
};

const asList = (v: unknown): string[] | undefined =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;

/** Reads the YAML front matter of a model card README; undefined when there is none. */
export function readModelCard(text: string): ModelCardFacts | undefined {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\s*(\r?\n|$)/.exec(text);
  if (!m) return undefined;
  let meta: unknown;
  try {
    meta = loadYaml().parse(m[1]!);
  } catch {
    return undefined;
  }
  if (typeof meta !== 'object' || meta === null) return undefined;
  const f = meta as Record<string, unknown>;
  const facts: ModelCardFacts = {};
  if (typeof f['license'] === 'string') facts.license = hfLicenseToSpdx(f['license'], typeof f['license_name'] === 'string' ? f['license_name'] : undefined);
  facts.baseModel = asList(f['base_model']);
  // ModelPack languages are two-letter ISO 639-1 codes.
  const languages = asList(f['language'])?.filter((l) => /^[a-z]{2}$/.test(l));
  if (languages?.length) facts.languages = languages;
  facts.datasets = asList(f['datasets']);
  if (typeof f['pipeline_tag'] === 'string') {
    facts.pipelineTag = f['pipeline_tag'];
    const modal = MODALITIES[f['pipeline_tag']];
    if (modal) [facts.inputTypes, facts.outputTypes] = modal;
  }
  return Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined)) as ModelCardFacts;
}
