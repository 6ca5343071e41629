/**
 * GBNF grammars built from parts: node-llama-cpp writes each JSON schema's rules, which are renamed
 * under a prefix so several schemas share one grammar ("a call to one of these tools | an answer
 * shaped like this schema"), and strings with a `pattern` or a `format` it lacks are written here.
 */
import { gbnfLiteral, regexToGbnf } from './regex-gbnf.js';

type Schema = { readonly [key: string]: unknown };

/** Formats node-llama-cpp writes itself. */
export const NATIVE_FORMATS = ['date', 'time', 'date-time'];

/**
 * Formats written as patterns, each the common subset of what ajv-formats and zod accept, so that
 * every string generated passes both.
 */
export const FORMAT_PATTERNS: Record<string, string> = {
  email: '[A-Za-z0-9_+-]+(\\.[A-Za-z0-9_+-]+)*@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\\.)+[A-Za-z]{2,}',
  uuid: '[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}',
  uri: '[a-z][a-z0-9+.-]*://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(/[A-Za-z0-9._~-]*)*',
  hostname: '[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*',
  ipv4: '((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])',
};

/** Every format the grammar can enforce. */
export const FORMATS = [...NATIVE_FORMATS, ...Object.keys(FORMAT_PATTERNS)];

/** node-llama-cpp ends a JSON grammar with newlines it stops on; one grammar keeps one such end. */
const TRAILER = ` "${'\\n'.repeat(4)}" [\\n]*`;

/** One schema's rules, renamed; `root` names the rule for the whole value. */
export interface GrammarPart {
  root: string;
  rules: string[];
}

/** Writes the GBNF of a schema in node-llama-cpp's subset (its LlamaJsonSchemaGrammar text). */
export type SchemaToGbnf = (schema: Schema) => Promise<string>;

/** The rules for values matching `schema`, every name starting with `prefix` (letters, digits, dashes). */
export async function schemaPart(schema: Schema, prefix: string, toGbnf: SchemaToGbnf): Promise<GrammarPart> {
  const patterns: string[] = [];
  const placeholder = (i: number) => `modelship${i}pattern`;
  // Strings node-llama-cpp cannot constrain are handed to it as unique constants, then swapped back.
  const swap = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(swap);
    if (typeof node !== 'object' || node === null) return node;
    const o = node as Record<string, unknown>;
    const source = o['type'] === 'string' ? (typeof o['pattern'] === 'string' ? o['pattern'] : typeof o['format'] === 'string' ? FORMAT_PATTERNS[o['format']] : undefined) : undefined;
    if (source !== undefined) {
      patterns.push(source);
      return { const: placeholder(patterns.length - 1) };
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, swap(v)]));
  };
  const gbnf = await toGbnf(swap(schema) as Schema);
  const lines = gbnf.split('\n').filter((l) => l.trim() !== '');
  const defined = new Set(lines.map((l) => l.slice(0, l.indexOf(' ::= '))));
  const swapped = new Map(patterns.map((_, i) => [gbnfLiteral(`"${placeholder(i)}"`), `${prefix}pattern${i}`]));
  const rename = (body: string) =>
    body.replace(/"(?:[^"\\]|\\.)*"|\[(?:[^\]\\]|\\.)*\]|[A-Za-z0-9-]+/g, (token) => swapped.get(token) ?? (defined.has(token) ? prefix + token : token));
  const rules = lines.map((line) => {
    const at = line.indexOf(' ::= ');
    const name = line.slice(0, at);
    let body = line.slice(at + ' ::= '.length);
    if (name === 'root' && body.endsWith(TRAILER)) body = body.slice(0, -TRAILER.length);
    return `${prefix}${name} ::= ${rename(body)}`;
  });
  patterns.forEach((source, i) => rules.push(`${prefix}pattern${i} ::= "\\"" ${regexToGbnf(source)} "\\""`));
  return { root: `${prefix}root`, rules };
}

/** The whole grammar: `root` over the parts' rules, ending as node-llama-cpp's JSON grammars do. */
export function grammarText(root: string, parts: GrammarPart[]): string {
  return [`root ::= ${root}${TRAILER}`, ...parts.flatMap((p) => p.rules)].join('\n');
}

/** The stop text that goes with TRAILER. */
export const GRAMMAR_STOP = '\n'.repeat(4);

export { gbnfLiteral };
