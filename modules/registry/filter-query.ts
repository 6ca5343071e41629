/**
 * The part of the Model Registry's `filterQuery` the embedded registry answers: comparisons with `=`,
 * `!=` or `<>` on `name`, `id`, `state`, `externalId` or a custom property (`prop`, `` `prop-x` ``,
 * `prop.string_value` …), joined by `AND`. Anything else (OR, LIKE, IN, <, parentheses) is refused
 * with a 400 naming what is supported: a filter is never ignored, so a list never answers with more
 * than was asked for.
 */
import { ModelshipError } from '../errors/index.js';

export interface FilterCondition {
  /** `name`, `id`, `state`, `externalId`, or `customProperties.<key>[.<value field>]`. */
  property: string;
  /** For custom properties: which value field, undefined for any. */
  valueField?: 'string_value' | 'int_value' | 'double_value' | 'bool_value';
  negate: boolean;
  value: string | number | boolean;
}

const STANDARD = new Set(['name', 'id', 'state', 'externalId']);
const VALUE_FIELDS = new Set(['string_value', 'int_value', 'double_value', 'bool_value']);
const MAX_FILTER_LENGTH = 4096;

const SUPPORTED = "the embedded registry supports `property = value` (also != and <>) joined by AND, on name, id, state, externalId and custom properties, e.g. name='my-model' AND state='LIVE'";

export function parseFilterQuery(query: string): FilterCondition[] {
  if (query.length > MAX_FILTER_LENGTH) throw refuse(`filterQuery is over ${MAX_FILTER_LENGTH} characters`);
  const tokens = tokenize(query);
  const out: FilterCondition[] = [];
  let i = 0;
  const next = () => tokens[i++];
  while (i < tokens.length) {
    const prop = next();
    if (prop?.kind !== 'ident') throw refuse(`filterQuery ${JSON.stringify(query)}: expected a property at ${describe(prop)}; ${SUPPORTED}`);
    const op = next();
    if (op?.kind !== 'op') throw refuse(`filterQuery ${JSON.stringify(query)}: ${describe(op)} is not supported; ${SUPPORTED}`);
    const value = next();
    if (value?.kind !== 'value') throw refuse(`filterQuery ${JSON.stringify(query)}: expected a value after ${prop.text} ${op.text}, found ${describe(value)}`);
    out.push({ ...property(prop.text, prop.quoted), negate: op.text !== '=', value: value.value });
    if (i < tokens.length) {
      const and = next();
      if (and?.kind !== 'ident' || and.quoted || and.text.toUpperCase() !== 'AND') throw refuse(`filterQuery ${JSON.stringify(query)}: ${describe(and)} is not supported; ${SUPPORTED}`);
      if (i >= tokens.length) throw refuse(`filterQuery ${JSON.stringify(query)} ends with AND`);
    }
  }
  if (!out.length) throw refuse(`filterQuery is empty; ${SUPPORTED}`);
  return out;
}

function property(text: string, quoted: boolean): Pick<FilterCondition, 'property' | 'valueField'> {
  if (!quoted && STANDARD.has(text)) return { property: text };
  const dot = quoted ? -1 : text.lastIndexOf('.');
  const suffix = dot > 0 ? text.slice(dot + 1) : '';
  const key = VALUE_FIELDS.has(suffix) ? text.slice(0, dot) : text;
  return { property: `customProperties.${key}`, ...(VALUE_FIELDS.has(suffix) ? { valueField: suffix as FilterCondition['valueField'] } : {}) };
}

type Token =
  | { kind: 'ident'; text: string; quoted: boolean }
  | { kind: 'op'; text: string }
  | { kind: 'value'; value: string | number | boolean; text: string }
  | { kind: 'other'; text: string };

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const c = query[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"') {
      const end = query.indexOf(c, i + 1);
      if (end < 0) throw refuse(`filterQuery ${JSON.stringify(query)}: the string opened at character ${i + 1} is not closed`);
      tokens.push({ kind: 'value', value: query.slice(i + 1, end), text: query.slice(i, end + 1) });
      i = end + 1;
    } else if (c === '`') {
      const end = query.indexOf('`', i + 1);
      if (end < 0) throw refuse(`filterQuery ${JSON.stringify(query)}: the property quoted at character ${i + 1} is not closed`);
      tokens.push({ kind: 'ident', text: query.slice(i + 1, end), quoted: true });
      i = end + 1;
    } else if (query.startsWith('!=', i) || query.startsWith('<>', i)) {
      tokens.push({ kind: 'op', text: query.slice(i, i + 2) });
      i += 2;
    } else if (c === '=') {
      tokens.push({ kind: 'op', text: '=' });
      i++;
    } else {
      const m = /^[A-Za-z0-9_.+-]+/.exec(query.slice(i));
      if (!m) {
        tokens.push({ kind: 'other', text: c });
        i++;
        continue;
      }
      const word = m[0];
      i += word.length;
      if (/^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(word)) tokens.push({ kind: 'value', value: Number(word), text: word });
      else if (/^(true|false)$/i.test(word)) tokens.push({ kind: 'value', value: word.toLowerCase() === 'true', text: word });
      else tokens.push({ kind: 'ident', text: word, quoted: false });
    }
  }
  return tokens;
}

function describe(token: Token | undefined): string {
  return token === undefined ? 'the end' : `"${token.kind === 'value' ? token.text : token.text}"`;
}

function refuse(message: string): ModelshipError {
  return new ModelshipError('MODEL_REGISTRY_BAD_REQUEST', message);
}
