/**
 * One reading of an SbomInput that both formats share: the model's name, licences, task and
 * datasets, with the packed ModelPack config taking precedence over the spec it came from.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { specPathMatcher } from '../project/paths.js';
import type { SbomFile, SbomInput } from './input.js';

export interface DatasetFacts {
  name: string;
  licenses: string[];
  description?: string;
  files: SbomFile[];
  /** testing when its name or path says test/eval/validation or evaluation results name it. */
  role: 'training' | 'testing';
  /** SPDX `dataset_datasetType` values, from the file extensions. */
  datasetTypes: string[];
}

export interface ModelFacts {
  name: string;
  version?: string;
  description?: string;
  licenses: string[];
  authors: string[];
  vendor?: string;
  family?: string;
  architecture?: string;
  format?: string;
  paramSize?: string;
  precision?: string;
  quantization?: string;
  task?: string;
  inputTypes: string[];
  outputTypes: string[];
  languages: string[];
  docURL?: string;
  sourceURL?: string;
  datasetsURL?: string;
  createdAt?: string;
  /** Every non-dataset file. */
  modelFiles: SbomFile[];
  datasets: DatasetFacts[];
  /** Hex seed the document's identity derives from: same input, same seed. */
  seed: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
const strs = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);
const firstString = (v: unknown): string | undefined => (Array.isArray(v) ? str(v[0]) : str(v));
const rec = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

export function modelFacts(input: SbomInput): ModelFacts {
  const packedDescriptor = rec(input.modelConfig?.['descriptor']);
  const packedConfig = rec(input.modelConfig?.['config']);
  const packedCaps = rec(packedConfig['capabilities']);
  const d = input.spec.descriptor;
  const c = input.spec.config;
  const caps = c.capabilities ?? {};
  const pick = (key: string, fallback: string | undefined) => str(packedDescriptor[key]) ?? fallback;
  const pickConfig = (key: string, fallback: string | undefined) => str(packedConfig[key]) ?? fallback;
  const inputTypes = strs(packedCaps['inputTypes']) ?? strs(packedCaps['input_types']) ?? caps.inputTypes ?? [];
  const outputTypes = strs(packedCaps['outputTypes']) ?? strs(packedCaps['output_types']) ?? caps.outputTypes ?? [];
  const licenses = strs(packedDescriptor['licenses']) ?? d.licenses ?? (input.modelCard?.license ? [input.modelCard.license] : []);
  const modelFiles = input.files.filter((f) => f.kind !== 'dataset').sort(byPath);
  const facts: ModelFacts = {
    name: pick('name', d.name) ?? 'model',
    licenses,
    authors: strs(packedDescriptor['authors']) ?? d.authors ?? [],
    inputTypes,
    outputTypes,
    languages: strs(packedCaps['languages']) ?? caps.languages ?? input.modelCard?.languages ?? [],
    modelFiles,
    datasets: datasetFacts(input),
    seed: seedOf(input),
  };
  const optional: [keyof ModelFacts, string | undefined][] = [
    ['version', pick('version', d.version)],
    ['description', pick('description', d.description)],
    ['vendor', pick('vendor', d.vendor)],
    ['family', pick('family', d.family)],
    ['architecture', pickConfig('architecture', c.architecture)],
    ['format', pickConfig('format', c.format)],
    ['paramSize', pickConfig('paramSize', c.paramSize) ?? str(packedConfig['param_size'])],
    ['precision', pickConfig('precision', c.precision)],
    ['quantization', pickConfig('quantization', c.quantization)],
    ['task', input.modelCard?.pipelineTag ?? taskFromCapabilities(inputTypes, outputTypes)],
    ['docURL', pick('docURL', d.docURL)],
    ['sourceURL', pick('sourceURL', d.sourceURL)],
    // The ModelPack config lists datasetsURL (an array); a spec names one URL.
    ['datasetsURL', firstString(packedDescriptor['datasetsURL']) ?? firstString(d.datasetsURL)],
    ['createdAt', str(packedDescriptor['createdAt'])],
  ];
  for (const [key, value] of optional) if (value !== undefined) (facts as unknown as Record<string, unknown>)[key] = value;
  return facts;
}

/** Hugging Face pipeline tags for the common ModelPack capability pairs. */
export function taskFromCapabilities(inputs: readonly string[], outputs: readonly string[]): string | undefined {
  const has = (list: readonly string[], t: string) => list.includes(t);
  if (has(outputs, 'embedding')) return 'feature-extraction';
  if (has(outputs, 'text')) {
    if (has(inputs, 'image') && has(inputs, 'text')) return 'image-text-to-text';
    if (has(inputs, 'image')) return 'image-to-text';
    if (has(inputs, 'audio')) return 'automatic-speech-recognition';
    if (has(inputs, 'text')) return 'text-generation';
  }
  if (has(outputs, 'image') && has(inputs, 'text')) return 'text-to-image';
  if (has(outputs, 'audio') && has(inputs, 'text')) return 'text-to-speech';
  return undefined;
}

const byPath = (a: SbomFile, b: SbomFile) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

const TYPE_BY_EXT: Record<string, string> = {
  csv: 'structured', tsv: 'structured', parquet: 'structured', arrow: 'structured', feather: 'structured', xlsx: 'structured',
  txt: 'text', md: 'text', jsonl: 'text', json: 'text', xml: 'text',
  png: 'image', jpg: 'image', jpeg: 'image', webp: 'image', gif: 'image', tiff: 'image',
  wav: 'audio', mp3: 'audio', flac: 'audio', ogg: 'audio',
  mp4: 'video', mkv: 'video', webm: 'video', avi: 'video',
  npy: 'numeric', npz: 'numeric', h5: 'numeric',
};

function datasetTypesOf(files: readonly SbomFile[]): string[] {
  const types = new Set(files.map((f) => TYPE_BY_EXT[path.extname(f.path).slice(1).toLowerCase()] ?? 'other'));
  return types.size ? [...types].sort() : ['noAssertion'];
}

const TESTING = /(^|[^a-z])(test|tests|testing|eval|evaluation|valid|validation|val|dev|benchmark)([^a-z]|$)/i;

function datasetFacts(input: SbomInput): DatasetFacts[] {
  const entries = input.spec.files.filter((e) => e.kind === 'dataset').map((e) => ({ entry: e, matches: specPathMatcher(e.path), files: [] as SbomFile[] }));
  const loose: SbomFile[] = [];
  for (const f of input.files.filter((x) => x.kind === 'dataset').sort(byPath)) {
    const owner = entries.find((e) => e.matches(f.path));
    if (owner) owner.files.push(f);
    else loose.push(f);
  }
  const evaluated = new Set((input.evaluation ?? []).map((r) => r.dataset?.toLowerCase()).filter(Boolean));
  const make = (name: string, where: string, files: SbomFile[], license?: string, description?: string): DatasetFacts => ({
    name,
    licenses: license ? [license] : [],
    ...(description ? { description } : {}),
    files,
    role: TESTING.test(name) || TESTING.test(where) || evaluated.has(name.toLowerCase()) ? 'testing' : 'training',
    datasetTypes: datasetTypesOf(files),
  });
  const out = entries.map((e) => make(e.entry.name ?? e.entry.path.replace(/^\.\//, ''), e.entry.path, e.files, e.entry.license, e.entry.description));
  for (const f of loose) out.push(make(f.path, f.path, [f]));
  // Datasets the model card names but the project does not ship still belong in the record.
  for (const name of input.modelCard?.datasets ?? []) {
    if (!out.some((d) => d.name.toLowerCase() === name.toLowerCase())) out.push(make(name, name, []));
  }
  // Names are identities in both formats: keep them unique.
  const seen = new Map<string, number>();
  for (const d of out) {
    const n = (seen.get(d.name) ?? 0) + 1;
    seen.set(d.name, n);
    if (n > 1) d.name = `${d.name} (${n})`;
  }
  return out;
}

/** JSON with sorted keys, so equal inputs give equal text whatever order they were built in. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** The artifact digest names a packed model; otherwise everything the document is built from does. */
function seedOf(input: SbomInput): string {
  // Only what the document says counts: the folder a project sits in does not change its identity.
  const { descriptor, config, files } = input.spec;
  const { modelConfig, evaluation, modelCard, dependencies, tool } = input;
  const basis = input.artifact
    ? `artifact:${input.artifact.digest}`
    : stableJson({ spec: { descriptor, config, files }, files: input.files, modelConfig, evaluation, modelCard, dependencies, tool });
  return createHash('sha256').update(basis).digest('hex');
}

/** An RFC 4122 version-5-shaped UUID from a hex seed and a namespace word. */
export function uuidFrom(seed: string, namespace: string): string {
  const h = createHash('sha256').update(`${namespace}:${seed}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** UTC to the second, as SPDX 3 requires and CycloneDX accepts; invalid text is left for the schema to report. */
export function isoSeconds(t: string): string {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? t : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
