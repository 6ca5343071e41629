/**
 * Licence strings as projects write them: SPDX ids, SPDX expressions, LicenseRef- ids and
 * free names (Hugging Face ids such as `llama3.1` or `openrail` are not SPDX).
 */
import { readSchema } from './locate.js';

export type LicenseTerm =
  | { kind: 'id'; id: string }
  | { kind: 'expression'; expression: string }
  | { kind: 'name'; name: string };

let idsCache: Map<string, string> | undefined;

/** SPDX licence and exception ids, keyed by lowercase, from the list CycloneDX ships. */
function spdxIds(): Map<string, string> {
  if (!idsCache) {
    const schema = readSchema('cyclonedx', 'spdx.schema.json') as { enum: string[] };
    idsCache = new Map(schema.enum.map((id) => [id.toLowerCase(), id]));
  }
  return idsCache;
}

export function canonicalSpdxId(id: string): string | undefined {
  return spdxIds().get(id.toLowerCase());
}

const OPERATOR = /^(AND|OR|WITH)$/i;
const REF = /^(DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$/;

/** An SPDX expression whose every operand is a listed id (optionally `+`) or a LicenseRef; canonical casing. */
function parseExpression(text: string): string | undefined {
  const tokens = text.replace(/([()])/g, ' $1 ').split(/\s+/).filter(Boolean);
  if (tokens.length === 0) return undefined;
  let depth = 0;
  let expectOperand = true;
  const out: string[] = [];
  for (const t of tokens) {
    if (t === '(') {
      if (!expectOperand) return undefined;
      depth++;
      out.push(t);
    } else if (t === ')') {
      if (expectOperand || --depth < 0) return undefined;
      out.push(t);
    } else if (OPERATOR.test(t)) {
      if (expectOperand) return undefined;
      out.push(t.toUpperCase());
      expectOperand = true;
    } else {
      if (!expectOperand) return undefined;
      const plus = t.endsWith('+') ? '+' : '';
      const bare = plus ? t.slice(0, -1) : t;
      const id = REF.test(bare) ? bare : canonicalSpdxId(bare);
      if (!id) return undefined;
      out.push(id + plus);
      expectOperand = false;
    }
  }
  if (expectOperand || depth !== 0) return undefined;
  return out.join(' ').replace(/\( /g, '(').replace(/ \)/g, ')');
}

export function classifyLicense(text: string): LicenseTerm {
  const trimmed = text.trim();
  const id = canonicalSpdxId(trimmed);
  if (id) return { kind: 'id', id };
  const expression = parseExpression(trimmed);
  if (expression) return { kind: 'expression', expression };
  return { kind: 'name', name: trimmed };
}

/** A LicenseRef- id for a licence SPDX does not list, e.g. `llama3.1` → `LicenseRef-llama3.1`. */
export function licenseRefFor(name: string): string {
  return 'LicenseRef-' + (name.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '') || 'unknown');
}

/** One SPDX expression for a list of licences (all apply: joined with AND); undefined when empty. */
export function licenseExpression(licenses: readonly string[]): string | undefined {
  const parts = licenses.filter((l) => l.trim() !== '').map((l) => {
    const term = classifyLicense(l);
    if (term.kind === 'id') return term.id;
    if (term.kind === 'expression') return /\s/.test(term.expression) && licenses.length > 1 ? `(${term.expression})` : term.expression;
    return licenseRefFor(term.name);
  });
  return parts.length ? [...new Set(parts)].join(' AND ') : undefined;
}

/** CycloneDX `licenses`: ids and names as a list, or one expression when any entry is an expression. */
export function cyclonedxLicenses(licenses: readonly string[]): unknown[] | undefined {
  const terms = licenses.filter((l) => l.trim() !== '').map(classifyLicense);
  if (terms.length === 0) return undefined;
  // The schema allows either a list of licences or exactly one expression, never both.
  if (terms.some((t) => t.kind === 'expression')) return [{ expression: licenseExpression(licenses)! }];
  return terms.map((t) => (t.kind === 'id' ? { license: { id: t.id } } : { license: { name: (t as { name: string }).name } }));
}
