/**
 * YAML spec files read with positions: zod checks the shape, and every problem is reported with
 * the file, line and field path, so the user can jump straight to it.
 */
import type { Document, LineCounter, Node } from 'yaml';
import { loadYaml } from '../fs/lazy-packages.js';
import { z } from 'zod';
import { ModelshipError, describeError } from '../errors/index.js';

export interface YamlSource {
  file: string;
  text: string;
  doc: Document;
  lines: LineCounter;
}

export function specError(file: string, line: number | undefined, message: string): ModelshipError {
  const at = line === undefined ? file : `${file}:${line}`;
  return new ModelshipError('SPEC_INVALID', `${at}: ${message}`, { details: { file, ...(line === undefined ? {} : { line }) } });
}

export function parseYamlSource(text: string, file: string): YamlSource {
  const { LineCounter, parseDocument } = loadYaml();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const first = doc.errors[0];
  if (first) throw specError(file, lines.linePos(first.pos[0]).line, `not valid YAML: ${first.message.split('\n')[0]}`);
  return { file, text, doc, lines };
}

/**
 * Every document of a multi-document YAML file as plain values (empty documents left out); the
 * first syntax error becomes `fail(line, message)`, so each reader keeps its own error code.
 */
export function parseYamlDocuments(text: string, fail: (line: number | undefined, message: string) => Error): unknown[] {
  const { LineCounter, parseAllDocuments } = loadYaml();
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const values: unknown[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const first = doc.errors[0];
    if (first) throw fail(lines.linePos(first.pos[0]).line, first.message.split('\n')[0]!);
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) values.push(value);
  }
  return values;
}

type Path = readonly (string | number)[];

export function fieldName(path: Path): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '') || '(top level)';
}

/** The line of the node at `path`, or of its nearest ancestor that exists. */
export function lineOf(src: YamlSource, path: Path): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = src.doc.getIn(path.slice(0, n), true) as Node | undefined;
    if (node && typeof node === 'object' && node.range) return src.lines.linePos(node.range[0]).line;
  }
  return undefined;
}

/** The line of the key `key` in the map at `path`. */
function keyLine(src: YamlSource, path: Path, key: string): number | undefined {
  const { isMap, isScalar } = loadYaml();
  const map = path.length === 0 ? src.doc.contents : src.doc.getIn(path, true);
  if (isMap(map)) {
    const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    if (pair && isScalar(pair.key) && pair.key.range) return src.lines.linePos(pair.key.range[0]).line;
  }
  return lineOf(src, path);
}

/** The schema reached by following `path` through objects, arrays and optionals. */
function schemaAt(schema: z.ZodType, path: Path): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  for (const step of [...path, null]) {
    while (current && (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodNullable)) {
      current = (current as z.ZodOptional<z.ZodType>).unwrap() as z.ZodType;
    }
    if (step === null || !current) break;
    if (current instanceof z.ZodArray) current = current.element as z.ZodType;
    else if (current instanceof z.ZodObject) current = (current.shape as Record<string, z.ZodType>)[String(step)];
    else if (current instanceof z.ZodUnion) {
      const obj = (current.options as z.ZodType[]).find((o) => o instanceof z.ZodObject) as z.ZodObject | undefined;
      current = obj ? (obj.shape as Record<string, z.ZodType>)[String(step)] : undefined;
    } else return undefined;
  }
  return current;
}

function allowedKeys(schema: z.ZodType, path: Path): string[] {
  let at = schemaAt(schema, path);
  if (at instanceof z.ZodUnion) at = (at.options as z.ZodType[]).find((o) => o instanceof z.ZodObject);
  return at instanceof z.ZodObject ? Object.keys(at.shape) : [];
}

function describeExpected(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') return `expected ${issue.expected}`;
  if (issue.code === 'invalid_value') return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return issue.message;
}

/**
 * Checks the document against `schema`. A plain scalar where a string is expected (`version: 1.0`)
 * becomes its source text, as KitOps' Go decoder does, so 1.0 stays "1.0".
 */
export function readYamlAs<S extends z.ZodType>(src: YamlSource, schema: S, what: string): z.infer<S> {
  let value: unknown;
  try {
    value = src.doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // The yaml library stops alias expansion that would grow without bound (a "billion laughs" file).
    throw specError(src.file, undefined, `not a usable ${what}: ${describeError(err)}; write the values out instead of nesting aliases`);
  }
  if (value === null || value === undefined) value = {};
  for (let round = 0; round < 2; round++) {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    const issues = flattenIssues(result.error.issues);
    let repaired = false;
    for (const issue of issues) {
      if (issue.code !== 'invalid_type' || issue.expected !== 'string') continue;
      const node = src.doc.getIn(issue.path as Path, true);
      const { isScalar, isSeq } = loadYaml();
      if (isScalar(node) && node.range && node.value !== null && typeof node.value !== 'string' && !isSeq(node)) {
        value = setIn(value, issue.path as Path, src.text.slice(node.range[0], node.range[1]));
        repaired = true;
      }
    }
    if (!repaired || round === 1) throw issuesError(src, schema, issues, what);
  }
  throw issuesError(src, schema, [], what);
}

/** Union failures become the issues of the branch the value was meant for, so messages stay specific. */
function flattenIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): z.core.$ZodIssue[] {
  return issues.flatMap((issue): z.core.$ZodIssue[] => {
    const path = [...prefix, ...issue.path];
    if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [{ ...issue, path } as z.core.$ZodIssue];
    const branches = issue.errors;
    const rootOnly = branches.every((b) => b.every((i) => i.path.length === 0));
    if (rootOnly && branches.every((b) => b.every((i) => i.code === 'invalid_value'))) {
      const values = branches.flatMap((b) => b.flatMap((i) => (i.code === 'invalid_value' ? i.values : [])));
      return [{ code: 'invalid_value', values, path, message: issue.message, input: undefined } as z.core.$ZodIssue];
    }
    // The branch whose type matched (no root type error) is the one the user meant.
    const meant = branches.filter((b) => !b.some((i) => i.path.length === 0 && i.code === 'invalid_type'));
    if (meant.length > 0) return flattenIssues(meant.sort((a, b) => a.length - b.length)[0]!, path);
    const types = branches.flatMap((b) => b.flatMap((i) => (i.code === 'invalid_type' ? [i.expected] : [])));
    return [{ code: 'invalid_type', expected: [...new Set(types)].join(' or '), path, message: issue.message, input: undefined } as z.core.$ZodIssue];
  });
}

function setIn(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const container = root as Record<string | number, unknown>;
  container[head!] = setIn(container[head!], rest, value);
  return root;
}

function issuesError(src: YamlSource, schema: z.ZodType, issues: z.core.$ZodIssue[], what: string): ModelshipError {
  const problems = issues.map((issue) => {
    const path = issue.path as Path;
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        line: keyLine(src, path, key),
        text: `unknown key "${fieldName([...path, key])}" in ${what}; allowed keys${path.length ? ` in ${fieldName(path)}` : ''}: ${allowedKeys(schema, path).join(', ')}`,
      }));
    }
    const isMissing = src.doc.getIn(path, true) === undefined;
    return [{ line: lineOf(src, path), text: `${fieldName(path)}: ${isMissing ? 'is required' : 'wrong value'}, ${describeExpected(issue)}` }];
  }).flat();
  const [first, ...rest] = problems;
  const err = specError(src.file, first?.line, first?.text ?? `not a valid ${what}`);
  if (rest.length === 0) return err;
  const more = rest.map((p) => `\n${src.file}${p.line === undefined ? '' : `:${p.line}`}: ${p.text}`).join('');
  return new ModelshipError('SPEC_INVALID', err.message + more, { details: { file: src.file, problems } });
}
