/**
 * Finds and reads a project's spec: modelship.yaml, then a Kitfile, then a Modelfile; with none,
 * the folder is described from its files.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ModelshipError } from '../errors/index.js';
import { pathExists } from '../fs/exists.js';
import { describePath } from '../fs/kind.js';
import { detectSpec } from './detect.js';
import { readIgnoreFiles } from './ignore.js';
import { parseKitfile, type ParseContext } from './kitfile.js';
import type { ModelSpec } from './model-spec.js';
import { parseModelfile } from './modelfile.js';
import { parseModelshipYaml } from './modelship-yaml.js';
import { KITFILE_NAMES, MODELFILE_NAMES, MODELSHIP_FILE } from './spec-files.js';

export type SpecFormat = 'modelship' | 'kitfile' | 'modelfile';

const CANDIDATES: [string, SpecFormat][] = [
  [MODELSHIP_FILE, 'modelship'],
  ['modelship.yml', 'modelship'],
  ...KITFILE_NAMES.map((n): [string, SpecFormat] => [n, 'kitfile']),
  ...MODELFILE_NAMES.map((n): [string, SpecFormat] => [n, 'modelfile']),
];

export interface FoundSpecFile {
  file: string;
  format: SpecFormat;
  /** Other spec files present that were not used. */
  others: string[];
}

/** The spec file `loadSpec` would read in `dir`, or undefined. */
export async function findSpecFile(dir: string): Promise<FoundSpecFile | undefined> {
  const present: [string, SpecFormat][] = [];
  for (const [name, format] of CANDIDATES) if (await pathExists(path.join(dir, name))) present.push([path.join(dir, name), format]);
  // Case-insensitive file systems report Kitfile and kitfile as the same file.
  const distinct = present.filter(([file], i) => present.findIndex(([f]) => f.toLowerCase() === file.toLowerCase()) === i);
  const [first, ...rest] = distinct;
  return first ? { file: first[0], format: first[1], others: rest.map(([f]) => f) } : undefined;
}

/** A spec must be a regular file: reading a FIFO would wait forever, a folder or device makes no sense. */
async function requireRegularFile(file: string): Promise<void> {
  const what = await describePath(file);
  if (what?.info?.isFile()) return;
  const text = what?.text ?? 'missing';
  throw new ModelshipError('SPEC_INVALID', `spec file ${file} is ${text}, not a regular file: give the path of a modelship.yaml, Kitfile or Modelfile`, {
    details: { file, kind: text },
  });
}

/** The format a file name implies, for `-f FILE`. */
export function formatOfFile(file: string): SpecFormat {
  const base = path.basename(file).toLowerCase();
  if (base.endsWith('.yaml') || base.endsWith('.yml')) return base.includes('kitfile') ? 'kitfile' : 'modelship';
  if (base.includes('kitfile')) return 'kitfile';
  if (base.includes('modelfile')) return 'modelfile';
  throw new ModelshipError('SPEC_INVALID', `${file}: cannot tell its format from the name; name it modelship.yaml, Kitfile or Modelfile`);
}

export function parseSpecText(text: string, format: SpecFormat, ctx: ParseContext): ModelSpec {
  switch (format) {
    case 'modelship': return parseModelshipYaml(text, ctx);
    case 'kitfile': return parseKitfile(text, ctx);
    case 'modelfile': return parseModelfile(text, ctx);
    default: {
      const never: never = format;
      throw new Error(`unknown spec format ${String(never)}`);
    }
  }
}

export interface LoadSpecOptions {
  /** Told when a choice was made for the user, e.g. several spec files present. */
  onNote?: (message: string) => void;
}

/**
 * The project's ModelSpec. `file` (the -f flag) overrides the search; paths in it stay relative to `dir`.
 * Patterns from .modelshipignore and .kitignore are added to `ignore`.
 */
export async function loadSpec(dir: string, file?: string, opts: LoadSpecOptions = {}): Promise<ModelSpec> {
  const contextDir = path.resolve(dir);
  let chosen: { file: string; format: SpecFormat } | undefined;
  if (file) {
    const abs = path.resolve(contextDir, file);
    if (!(await describePath(abs))) throw new ModelshipError('SPEC_NOT_FOUND', `spec file ${abs} does not exist`);
    await requireRegularFile(abs);
    chosen = { file: abs, format: formatOfFile(abs) };
  } else {
    const found = await findSpecFile(contextDir);
    if (found?.others.length) {
      opts.onNote?.(`using ${path.basename(found.file)}; also present and not read: ${found.others.map((f) => path.basename(f)).join(', ')}`);
    }
    chosen = found;
  }
  if (!chosen) return detectSpec(contextDir);
  if (!file) await requireRegularFile(chosen.file);
  const text = await readFile(chosen.file, 'utf8');
  const spec = parseSpecText(text, chosen.format, { file: chosen.file, contextDir });
  const fromFiles = await readIgnoreFiles(contextDir);
  return { ...spec, ignore: [...new Set([...spec.ignore, ...fromFiles])] };
}
