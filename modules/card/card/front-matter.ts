/**
 * YAML front matter of Markdown cards (Hugging Face README.md / dataset cards): split from the
 * body, parsed with the file's own line numbers so errors point at the right line.
 */
import { LineCounter, parseDocument, isMap } from 'yaml';
import { ModelshipError } from '../../errors/index.js';
import { escapeRegExp } from '../../text/regexp.js';

export interface ParsedCard {
  /** The front matter as data; empty when the file has none. */
  frontMatter: Record<string, unknown>;
  /** Whether the file opened with a `---` block. */
  hasFrontMatter: boolean;
  /** The Markdown after the front matter. */
  body: string;
}

export function cardError(file: string, line: number | undefined, message: string): ModelshipError {
  const at = line === undefined ? file : `${file}:${line}`;
  return new ModelshipError('CARD_INVALID', `${at}: ${message}`, { details: { file, ...(line === undefined ? {} : { line }) } });
}

/** Parse a card; `file` names it in errors. Broken front matter is an error with the line at fault. */
export function parseCard(text: string, file: string): ParsedCard {
  const normalized = text.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  if (!normalized.startsWith('---\n') && normalized !== '---') return { frontMatter: {}, hasFrontMatter: false, body: normalized };
  const lines = normalized.split('\n');
  const close = lines.findIndex((l, i) => i > 0 && /^(---|\.\.\.)\s*$/.test(l));
  if (close < 0) throw cardError(file, 1, 'front matter opened with "---" is never closed: add a line "---" after the YAML block');
  const yamlText = lines.slice(1, close).join('\n');
  const counter = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: counter, prettyErrors: false });
  const first = doc.errors[0];
  if (first) {
    // +1 for the opening "---" line.
    const line = counter.linePos(first.pos[0]).line + 1;
    throw cardError(file, line, `front matter is not valid YAML: ${first.message.split('\n')[0]}`);
  }
  if (doc.contents !== null && !isMap(doc.contents)) throw cardError(file, 2, 'front matter must be a YAML mapping (key: value lines)');
  let data: Record<string, unknown>;
  try {
    data = (doc.toJS() ?? {}) as Record<string, unknown>;
  } catch (err) {
    // The yaml library stops alias expansion that would grow without bound (a "billion laughs" block).
    throw cardError(file, 2, `front matter is not usable: ${(err as Error).message}; write the values out instead of nesting aliases`);
  }
  return { frontMatter: data, hasFrontMatter: true, body: lines.slice(close + 1).join('\n') };
}

/** The line (1-based, in the whole file) where front matter key `key` starts, for messages. */
export function frontMatterKeyLine(text: string, key: string): number | undefined {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const at = lines.findIndex((l, i) => i > 0 && new RegExp(`^${escapeRegExp(key)}\\s*:`).test(l));
  return at < 0 ? undefined : at + 1;
}
