/**
 * Describes a folder that has no spec file: walks it, classifies each file, and reads what the
 * weights, config.json and model card say into a ModelSpec (source.format 'none').
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ggufModelInfo, readGgufHeader } from '../gguf/reader.js';
import { describeError, ModelshipError } from '../errors/index.js';
import { classifyFile, weightFormat } from './classify.js';
import { createIgnoreMatcher, IGNORE_FILES, readIgnoreFiles } from './ignore.js';
import { ModelSpec, type FileKind, type SpecFileEntry } from './model-spec.js';
import { formatParamCount, PARAM_SIZE_PATTERN } from './param-size.js';
import { dominantPrecision, readSafetensorsHeader } from './safetensors.js';
import { hfLicenseToSpdx, readHfConfig, readModelCard } from './huggingface.js';
import { SPEC_FILE_NAMES } from './spec-files.js';

/** Never part of a model: tool state and caches. */
const SKIPPED_DIRS = new Set(['.git', 'node_modules', '__pycache__', '.venv', 'venv', '.ipynb_checkpoints', '.cache', '.modelship']);

export interface ProjectFile {
  path: string;
  size: number;
  kind: FileKind | undefined;
}

export interface Detection {
  spec: ModelSpec;
  files: ProjectFile[];
  /** What was read, one line each, for the user. */
  findings: string[];
  /** Fields the user should fill in by hand. */
  missing: string[];
}

/** Every file under `dir` (relative, `/`-separated, sorted), minus ignored and tool folders. */
export async function listProjectFiles(dir: string, ignore: readonly string[] = []): Promise<ProjectFile[]> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new ModelshipError('SPEC_NOT_FOUND', `model folder ${dir} does not exist or is not a folder: give the project folder, e.g. modelship pack ./my-model -t my-model:v1`, { details: { path: dir } });
  }
  const matcher = createIgnoreMatcher(ignore);
  const out: ProjectFile[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      const relPath = rel ? `${rel}/${e.name}` : e.name;
      if (matcher.ignores(relPath)) continue;
      if (e.isDirectory()) {
        // Hidden folders (.git, .venv, .idea...) hold tool state, not the model.
        if (!SKIPPED_DIRS.has(e.name) && !e.name.startsWith('.')) await walk(relPath);
      } else if (e.isFile() && !e.name.startsWith('.')) {
        out.push({ path: relPath, size: (await stat(path.join(dir, relPath))).size, kind: classifyFile(relPath) });
      }
    }
  }
  await walk('');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Top-level folders whose files are all one kind become one entry (data/ rather than 500 files). */
function groupEntries(files: ProjectFile[]): SpecFileEntry[] {
  const byTop = new Map<string, ProjectFile[]>();
  for (const f of files) {
    const top = f.path.includes('/') ? f.path.split('/')[0]! : '';
    if (top) byTop.set(top, [...(byTop.get(top) ?? []), f]);
  }
  const entries: SpecFileEntry[] = [];
  const grouped = new Set<string>();
  for (const [top, members] of byTop) {
    const kinds = new Set(members.map((m) => m.kind ?? 'code'));
    const [kind] = kinds;
    if (kinds.size === 1 && kind !== 'weight' && kind !== 'weightConfig' && members.length > 1) {
      entries.push({ kind: kind!, path: top });
      grouped.add(top);
    }
  }
  for (const f of files) {
    const top = f.path.includes('/') ? f.path.split('/')[0]! : '';
    // Files nothing recognises go with the code, as KitOps' catch-all does.
    if (!grouped.has(top)) entries.push({ kind: f.kind ?? 'code', path: f.path });
  }
  const order: FileKind[] = ['weight', 'weightConfig', 'doc', 'code', 'dataset'];
  return entries.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || (a.path < b.path ? -1 : 1));
}

export async function detectProject(dir: string): Promise<Detection> {
  const contextDir = path.resolve(dir);
  const ignore = await readIgnoreFiles(contextDir);
  const skip = new Set<string>([...SPEC_FILE_NAMES, ...IGNORE_FILES]);
  const files = (await listProjectFiles(contextDir, ignore)).filter((f) => !skip.has(f.path));
  const findings: string[] = [];
  const descriptor: ModelSpec['descriptor'] = {};
  const config: ModelSpec['config'] = {};
  const licenses: string[] = [];
  const set = <K extends keyof ModelSpec['config']>(key: K, value: ModelSpec['config'][K] | undefined) => {
    if (value !== undefined && config[key] === undefined) config[key] = value;
  };

  const weights = files.filter((f) => f.kind === 'weight').sort((a, b) => b.size - a.size);
  // The biggest weight file decides the format, as the main model (adapters are smaller).
  const main = weights[0];
  if (main) set('format', weightFormat(main.path));

  for (const gguf of weights.filter((f) => f.path.toLowerCase().endsWith('.gguf'))) {
    try {
      const info = ggufModelInfo(await readGgufHeader(path.join(contextDir, gguf.path), { tensors: true }));
      findings.push(`${gguf.path}: GGUF ${[info.architecture, info.sizeLabel, info.quantization ?? info.precision].filter(Boolean).join(', ')}`);
      if (gguf !== main) continue;
      set('architecture', info.architecture);
      set('quantization', info.quantization);
      set('precision', info.precision);
      set('paramSize', info.sizeLabel && PARAM_SIZE_PATTERN.test(info.sizeLabel) ? info.sizeLabel : info.paramCount ? formatParamCount(info.paramCount) : undefined);
      if (info.name) descriptor.name ??= info.name;
      if (info.license) licenses.push(hfLicenseToSpdx(info.license));
    } catch (err) {
      findings.push(`${gguf.path}: not readable as GGUF (${describeError(err)})`);
    }
  }

  const shards = weights.filter((f) => f.path.toLowerCase().endsWith('.safetensors'));
  if (shards.length) {
    const byDtype: Record<string, number> = {};
    let params = 0;
    for (const shard of shards) {
      try {
        const info = await readSafetensorsHeader(path.join(contextDir, shard.path));
        params += info.paramCount;
        for (const [dtype, n] of Object.entries(info.elementsByDtype)) byDtype[dtype] = (byDtype[dtype] ?? 0) + n;
      } catch (err) {
        findings.push(`${shard.path}: not readable as safetensors (${describeError(err)})`);
      }
    }
    if (params > 0) {
      findings.push(`${shards.length} safetensors file(s): ${params} parameters, mostly ${dominantPrecision(byDtype)}`);
      if (main?.path.toLowerCase().endsWith('.safetensors')) {
        set('paramSize', formatParamCount(params));
        set('precision', dominantPrecision(byDtype));
      }
    }
  }

  const configJson = files.find((f) => f.path === 'config.json');
  if (configJson) {
    try {
      const facts = readHfConfig(JSON.parse(await readFile(path.join(contextDir, configJson.path), 'utf8')));
      findings.push(`config.json: ${[facts.className ?? facts.architecture, facts.precision, facts.quantization].filter(Boolean).join(', ')}`);
      set('architecture', facts.architecture);
      set('precision', facts.precision);
      set('quantization', facts.quantization);
    } catch (err) {
      findings.push(`config.json: not readable (${describeError(err)})`);
    }
  }

  const readme = files.find((f) => /^readme(\.md)?$/i.test(f.path));
  if (readme) {
    const card = readModelCard(await readFile(path.join(contextDir, readme.path), 'utf8'));
    if (card) {
      findings.push(`${readme.path}: model card metadata${card.license ? `, license ${card.license}` : ''}${card.pipelineTag ? `, ${card.pipelineTag}` : ''}`);
      if (card.license) licenses.unshift(card.license);
      const capabilities = { inputTypes: card.inputTypes, outputTypes: card.outputTypes, languages: card.languages };
      if (Object.values(capabilities).some((v) => v !== undefined)) {
        config.capabilities = Object.fromEntries(Object.entries(capabilities).filter(([, v]) => v !== undefined));
      }
      if (card.baseModel?.length) descriptor.description ??= `Derived from ${card.baseModel.join(', ')}.`;
    }
  }

  descriptor.name ??= path.basename(contextDir);
  const unique = [...new Set(licenses)];
  if (unique.length) descriptor.licenses = unique;
  const unknown = files.filter((f) => f.kind === undefined);
  if (unknown.length) findings.push(`${unknown.length} file(s) not recognised, listed under code: ${unknown.slice(0, 5).map((f) => f.path).join(', ')}${unknown.length > 5 ? ', ...' : ''}`);

  const missing: string[] = [];
  if (!weights.length) missing.push('weights (no weight file found)');
  if (!descriptor.version) missing.push('version');
  if (!descriptor.licenses) missing.push('license (SPDX id, e.g. Apache-2.0)');
  if (!descriptor.description) missing.push('description');
  for (const key of ['architecture', 'format', 'paramSize', 'precision'] as const) if (!config[key]) missing.push(`model.${key}`);

  const spec = ModelSpec.parse({
    source: { format: 'none' },
    contextDir,
    descriptor,
    config,
    files: groupEntries(files),
    ignore,
    pipeline: {},
  });
  return { spec, files, findings, missing };
}

export async function detectSpec(dir: string): Promise<ModelSpec> {
  return (await detectProject(dir)).spec;
}
