/**
 * JSON Schemas from requests (tool parameters, response_format) checked against what grammar-
 * constrained generation can enforce, and rewritten into node-llama-cpp's GBNF JSON schema subset.
 * A keyword the grammar cannot enforce is refused with a 400 naming it, never ignored.
 */
import { ApiError } from './api.js';
import { FORMATS, NATIVE_FORMATS } from './grammar.js';
import { RegexNotExpressible, regexToGbnf } from './regex-gbnf.js';

/** The subset node-llama-cpp turns into a grammar (its GbnfJsonSchema). */
export type GrammarSchema = { readonly [key: string]: unknown };

/** Words that only describe a schema; the grammar does not need them. */
const ANNOTATIONS = new Set(['title', 'description', 'default', 'examples', 'example', '$schema', '$id', '$comment', 'deprecated', 'readOnly', 'writeOnly']);
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null', 'object', 'array']);
const KEYWORDS_BY_TYPE: Record<string, Set<string>> = {
  string: new Set(['minLength', 'maxLength', 'format', 'pattern']),
  object: new Set(['properties', 'required', 'additionalProperties', 'minProperties', 'maxProperties']),
  array: new Set(['items', 'prefixItems', 'minItems', 'maxItems']),
  number: new Set(['minimum', 'maximum']),
  integer: new Set(['minimum', 'maximum']),
};
const MAX_DEPTH = 64;

/**
 * A grammar's cost grows with every value it may produce: llama.cpp checks each candidate token
 * against every alternative (20,000 enum values: 88 s for 20 tokens here). Alternatives and text
 * are bounded as OpenAI's structured outputs are (platform.openai.com/docs/guides/structured-outputs,
 * "Supported schemas": 1000 enum values, 120,000 characters); properties tighter than its 5000,
 * as checking and compiling 5000 took over a second of this server's single event loop.
 */
export const SCHEMA_LIMITS = { enumValues: 1000, properties: 1000, textChars: 120_000 } as const;

interface Tally {
  param: string;
  enumValues: number;
  properties: number;
  textChars: number;
}

/**
 * Check `schema` and return it in the grammar's form; `param` is the request field it came from
 * (e.g. "tools.0.function.parameters"), used in the error.
 */
export function toGrammarSchema(schema: unknown, param: string): GrammarSchema {
  const defs = isObject(schema) && isObject(schema['$defs']) ? Object.keys(schema['$defs']) : [];
  tally = { param, enumValues: 0, properties: 0, textChars: 0 };
  try {
    return convert(schema, param, defs, 0);
  } finally {
    tally = undefined;
  }
}

let tally: Tally | undefined;

/** Counts what the grammar will hold, refusing a schema past SCHEMA_LIMITS before any grammar is built. */
function add(kind: keyof typeof SCHEMA_LIMITS, n: number): void {
  if (!tally) return;
  tally[kind] += n;
  if (tally[kind] > SCHEMA_LIMITS[kind]) {
    const what = { enumValues: 'alternatives (enum and const values, anyOf/oneOf options)', properties: 'object properties', textChars: 'characters of property names, enum/const values and patterns' }[kind];
    throw new ApiError(
      400,
      `"${tally.param}" is too large for grammar-constrained generation: it has more than ${SCHEMA_LIMITS[kind]} ${what} in all (the limit is ${SCHEMA_LIMITS[kind]}); send a smaller schema.`,
      'invalid_request_error',
      'schema_too_large',
      tally.param,
    );
  }
}

function textOf(value: unknown): number {
  return typeof value === 'string' ? value.length : String(value).length;
}

function convert(schema: unknown, at: string, defs: string[], depth: number): GrammarSchema {
  if (depth > MAX_DEPTH) fail(at, `nests deeper than ${MAX_DEPTH} levels`);
  if (schema === true || (isObject(schema) && Object.keys(schema).every((k) => ANNOTATIONS.has(k)))) fail(at, 'allows any value; give it a "type"');
  if (!isObject(schema)) fail(at, 'is not a JSON Schema object');
  const out: Record<string, unknown> = {};
  const keys = Object.keys(schema).filter((k) => !ANNOTATIONS.has(k));
  if (typeof schema['description'] === 'string') out['description'] = schema['description'];

  if ('$ref' in schema) {
    const ref = schema['$ref'];
    const name = typeof ref === 'string' && ref.startsWith('#/$defs/') ? ref.slice('#/$defs/'.length) : undefined;
    if (name === undefined || !defs.includes(name)) fail(`${at}.$ref`, `must point at one of this schema's $defs (#/$defs/NAME), not ${JSON.stringify(ref)}`);
    onlyKeys(schema, keys, ['$ref', '$defs'], at);
    out['$ref'] = ref;
  } else if ('const' in schema) {
    if (!isScalar(schema['const'])) fail(`${at}.const`, 'must be a string, number, boolean or null');
    onlyKeys(schema, keys, ['const', 'type', '$defs'], at);
    add('enumValues', 1);
    add('textChars', textOf(schema['const']));
    out['const'] = schema['const'];
  } else if ('enum' in schema) {
    const values = schema['enum'];
    if (!Array.isArray(values) || values.length === 0 || !values.every(isScalar)) fail(`${at}.enum`, 'must be a non-empty list of strings, numbers, booleans or null');
    onlyKeys(schema, keys, ['enum', 'type', '$defs'], at);
    add('enumValues', values.length);
    add('textChars', values.reduce((n: number, v) => n + textOf(v), 0));
    out['enum'] = values;
  } else if ('oneOf' in schema || 'anyOf' in schema) {
    const word = 'oneOf' in schema ? 'oneOf' : 'anyOf';
    const options = schema[word];
    if (!Array.isArray(options) || options.length === 0) fail(`${at}.${word}`, 'must be a non-empty list of schemas');
    onlyKeys(schema, keys, [word, '$defs'], at);
    add('enumValues', options.length);
    // A value matching any option is what both words admit when generating.
    out['oneOf'] = options.map((o, i) => convert(o, `${at}.${word}.${i}`, defs, depth + 1));
  } else {
    const type = schema['type'];
    const types = Array.isArray(type) ? type : [type];
    if (type === undefined || types.length === 0 || !types.every((t) => typeof t === 'string' && TYPES.has(t))) {
      fail(`${at}.type`, `must be one of ${[...TYPES].join(', ')} (or a list of them), not ${JSON.stringify(type)}`);
    }
    const named = types as string[];
    if (named.length > 1) {
      const composite = named.filter((t) => t === 'object' || t === 'array');
      if (composite.length > 0) fail(`${at}.type`, `a list of types cannot include ${composite.join(' or ')}; use anyOf`);
      onlyKeys(schema, keys, ['type', '$defs'], at);
      out['type'] = named;
    } else {
      const single = named[0]!;
      onlyKeys(schema, keys, ['type', '$defs', ...(KEYWORDS_BY_TYPE[single] ?? [])], at);
      out['type'] = single;
      copyType(schema, single, out, at, defs, depth);
    }
  }
  if (isObject(schema['$defs'])) {
    out['$defs'] = Object.fromEntries(Object.entries(schema['$defs']).map(([k, v]) => [k, convert(v, `${at}.$defs.${k}`, defs, depth + 1)]));
  }
  return out;
}

function copyType(schema: Record<string, unknown>, type: string, out: Record<string, unknown>, at: string, defs: string[], depth: number): void {
  if (type === 'number' || type === 'integer') {
    // zod writes the safe-integer range for every integer; any narrower bound cannot be enforced.
    for (const key of ['minimum', 'maximum'] as const) {
      const bound = schema[key];
      if (bound !== undefined && Math.abs(Number(bound)) !== Number.MAX_SAFE_INTEGER) fail(`${at}.${key}`, 'cannot be enforced while generating; leave it out and check the value yourself');
    }
    return;
  }
  if (type === 'string') {
    // With both (zod writes both), the pattern is what the grammar enforces: it is what validators check.
    if (schema['format'] !== undefined) {
      if (typeof schema['format'] !== 'string' || !FORMATS.includes(schema['format'])) fail(`${at}.format`, `must be one of ${FORMATS.join(', ')}`);
      if (schema['minLength'] !== undefined || schema['maxLength'] !== undefined) fail(at, 'cannot combine format with minLength/maxLength');
      out['format'] = schema['format'];
    }
    if (schema['pattern'] !== undefined) {
      const pattern = schema['pattern'];
      if (typeof pattern !== 'string') fail(`${at}.pattern`, 'must be a regular expression in a string');
      if (schema['minLength'] !== undefined || schema['maxLength'] !== undefined) fail(at, 'cannot combine pattern with minLength/maxLength; put the length in the pattern, e.g. ^[a-z]{1,20}$');
      try {
        new RegExp(pattern, 'u');
        regexToGbnf(pattern);
      } catch (err) {
        if (err instanceof RegexNotExpressible) fail(`${at}.pattern`, `${err.message}; the grammar supports literals, classes, ".", groups, "|" and quantifiers`);
        fail(`${at}.pattern`, `is not a valid regular expression: ${(err as Error).message}`);
      }
      add('textChars', pattern.length);
      out['pattern'] = pattern;
    }
    for (const key of ['minLength', 'maxLength']) if (schema[key] !== undefined) out[key] = count(schema[key], `${at}.${key}`);
    return;
  }
  if (type === 'array') {
    if (schema['items'] !== undefined && schema['items'] !== false) out['items'] = convert(schema['items'], `${at}.items`, defs, depth + 1);
    if (schema['prefixItems'] !== undefined) {
      if (!Array.isArray(schema['prefixItems'])) fail(`${at}.prefixItems`, 'must be a list of schemas');
      out['prefixItems'] = schema['prefixItems'].map((s, i) => convert(s, `${at}.prefixItems.${i}`, defs, depth + 1));
    }
    for (const key of ['minItems', 'maxItems']) if (schema[key] !== undefined) out[key] = count(schema[key], `${at}.${key}`);
    return;
  }
  if (type === 'object') {
    const properties = schema['properties'] ?? {};
    if (!isObject(properties)) fail(`${at}.properties`, 'must be an object of schemas');
    add('properties', Object.keys(properties).length);
    add('textChars', Object.keys(properties).reduce((n, k) => n + k.length, 0));
    out['properties'] = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, convert(v, `${at}.properties.${k}`, defs, depth + 1)]));
    const required = schema['required'];
    if (required !== undefined) {
      if (!Array.isArray(required) || !required.every((r) => typeof r === 'string' && Object.hasOwn(properties, r))) {
        fail(`${at}.required`, 'must list names from properties');
      }
      out['required'] = required;
    }
    const extra = schema['additionalProperties'];
    if (extra !== undefined) out['additionalProperties'] = typeof extra === 'boolean' ? extra : convert(extra, `${at}.additionalProperties`, defs, depth + 1);
    for (const key of ['minProperties', 'maxProperties']) if (schema[key] !== undefined) out[key] = count(schema[key], `${at}.${key}`);
  }
}

/** Where `schema` holds a string with a pattern or a format only our own grammar writes (JSON path), if anywhere. */
export function findPatternString(schema: unknown, at: string): string | undefined {
  if (Array.isArray(schema)) {
    for (const [i, item] of schema.entries()) {
      const found = findPatternString(item, `${at}.${i}`);
      if (found) return found;
    }
    return undefined;
  }
  if (!isObject(schema)) return undefined;
  if (schema['type'] === 'string') {
    if (schema['pattern'] !== undefined) return `${at}.pattern`;
    if (typeof schema['format'] === 'string' && !NATIVE_FORMATS.includes(schema['format'])) return `${at}.format`;
  }
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'enum' || k === 'const') continue;
    const found = findPatternString(v, `${at}.${k}`);
    if (found) return found;
  }
  return undefined;
}

function onlyKeys(schema: Record<string, unknown>, keys: string[], allowed: string[], at: string): void {
  const unknown = keys.filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    fail(`${at}.${unknown[0]}`, `is not supported by grammar-constrained generation here (supported: type, properties, required, additionalProperties, items, prefixItems, enum, const, oneOf, anyOf, $ref/$defs, minLength, maxLength, minItems, maxItems, pattern, format ${FORMATS.join('/')})`);
  }
  if (keys.includes('type') && ('enum' in schema || 'const' in schema)) {
    const type = schema['type'];
    if (typeof type !== 'string' && !Array.isArray(type)) fail(`${at}.type`, 'must be a type name');
  }
}

function count(value: unknown, at: string): number {
  if (!Number.isInteger(value) || (value as number) < 0) fail(at, 'must be a whole number, 0 or more');
  return value as number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function fail(param: string, problem: string): never {
  throw new ApiError(400, `"${param}" ${problem}.`, 'invalid_request_error', 'invalid_schema', param);
}
