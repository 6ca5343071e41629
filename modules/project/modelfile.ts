/**
 * modctl `Modelfile`: one directive per line, `#` comments, directives case-insensitive.
 * File directives repeat; value directives may appear once.
 */
import path from 'node:path';
import { ModelSpec, type FileKind, type SpecFileEntry } from './model-spec.js';
import { normalizeSpecPath } from './paths.js';
import { specError } from './yaml-source.js';
import { formatParamCount, PARAM_SIZE_PATTERN } from './param-size.js';
import { dropUndefined } from './kitfile.js';
import type { ParseContext } from './kitfile.js';

const FILE_DIRECTIVES: Record<string, FileKind> = {
  CONFIG: 'weightConfig',
  MODEL: 'weight',
  CODE: 'code',
  DATASET: 'dataset',
  DOC: 'doc',
};

type ValueTarget = { section: 'descriptor' | 'config'; field: string };
const VALUE_DIRECTIVES: Record<string, ValueTarget> = {
  NAME: { section: 'descriptor', field: 'name' },
  ARCH: { section: 'config', field: 'architecture' },
  FAMILY: { section: 'descriptor', field: 'family' },
  FORMAT: { section: 'config', field: 'format' },
  PARAMSIZE: { section: 'config', field: 'paramSize' },
  PRECISION: { section: 'config', field: 'precision' },
  QUANTIZATION: { section: 'config', field: 'quantization' },
};

export const MODELFILE_DIRECTIVES = [...Object.keys(FILE_DIRECTIVES), ...Object.keys(VALUE_DIRECTIVES)];

export function parseModelfile(text: string, ctx: ParseContext): ModelSpec {
  const descriptor: Record<string, string> = {};
  const config: Record<string, string> = {};
  const setAt = new Map<string, number>();
  const files: SpecFileEntry[] = [];
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = index + 1;
    const trimmed = rawLine.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const match = /^(\S+)(?:\s+(.*))?$/.exec(trimmed)!;
    const directive = match[1]!.toUpperCase();
    const value = (match[2] ?? '').trim();
    const kind = FILE_DIRECTIVES[directive];
    const target = VALUE_DIRECTIVES[directive];
    if (!kind && !target) {
      throw specError(ctx.file, line, `unknown directive "${match[1]}"; allowed directives: ${MODELFILE_DIRECTIVES.join(', ')}`);
    }
    if (value === '') throw specError(ctx.file, line, `${directive} needs a value, e.g. "${directive} ${kind ? '*.safetensors' : 'value'}"`);
    if (kind) {
      const normal = normalizeSpecPath(value);
      if ('error' in normal) throw specError(ctx.file, line, `${directive} path ${normal.error}`);
      files.push({ kind, path: normal.path });
      return;
    }
    const earlier = setAt.get(directive);
    if (earlier !== undefined) throw specError(ctx.file, line, `${directive} is already set at line ${earlier}; give it once`);
    setAt.set(directive, line);
    if (directive === 'PARAMSIZE' && !/^\d+$/.test(value) && !PARAM_SIZE_PATTERN.test(value)) {
      throw specError(ctx.file, line, `PARAMSIZE "${value}" is neither a parameter count nor <number><Q|T|B|M|K>; write e.g. 7B or 7000000000`);
    }
    const section = target!.section === 'descriptor' ? descriptor : config;
    // modctl documents PARAMSIZE as a plain count; ModelPack wants <number><K|M|B|T>.
    // A raw count (e.g. 7241732096) gets its unit; a small bare number is kept as modctl wrote it.
    section[target!.field] = directive === 'PARAMSIZE' && /^\d+$/.test(value) && Number(value) >= 1000 ? formatParamCount(Number(value)) : value;
  });
  return ModelSpec.parse({
    source: { format: 'modelfile', file: ctx.file },
    contextDir: path.resolve(ctx.contextDir),
    descriptor: dropUndefined(descriptor),
    config: dropUndefined(config),
    files,
    ignore: [],
    pipeline: {},
    originalText: text,
  });
}
