/**
 * A JSON Schema `pattern` (ECMA-262 regular expression) as a GBNF expression for the characters of
 * a JSON string: what it matches, JSON-escaped. The subset: literals, escapes, classes, `.`, groups,
 * alternation and quantifiers, with `^`/`$` only at the ends. Backreferences, lookarounds and word
 * boundaries cannot be expressed by a context-free grammar and are refused, naming the construct.
 */

/** A range of code points, both ends included. */
type Range = [number, number];

const MAX_CODE_POINT = 0x10ffff;
/** Counted repetition is copied out by llama.cpp's grammar parser; larger counts are refused. */
export const MAX_REPEAT = 256;
/**
 * Open-ended repetition (*, +, {n,}) is generated at most this many times more (a group: the
 * smaller count, as llama.cpp refuses nested counted repetition past about 2000 copies): every
 * string is still a match, and a model cannot loop inside one until max_tokens.
 */
export const UNBOUNDED_REPEAT = 64;
export const UNBOUNDED_GROUP_REPEAT = 8;

const DIGIT: Range[] = [[0x30, 0x39]];
const WORD: Range[] = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];
const SPACE: Range[] = [[0x09, 0x0d], [0x20, 0x20], [0xa0, 0xa0], [0x1680, 0x1680], [0x2000, 0x200a], [0x2028, 0x2029], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000], [0xfeff, 0xfeff]];
const LINE_TERMINATORS: Range[] = [[0x0a, 0x0a], [0x0d, 0x0d], [0x2028, 0x2029]];

export class RegexNotExpressible extends Error {}

/** GBNF for the JSON-escaped text of strings matching `pattern` (a full match). */
export function regexToGbnf(pattern: string): string {
  const parser = new Parser(pattern);
  return parser.parseWhole();
}

class Parser {
  private pos = 0;
  constructor(private readonly src: string) {}

  parseWhole(): string {
    if (this.src.startsWith('^')) this.pos = 1;
    const expr = this.alternation(true);
    if (this.pos < this.src.length) this.fail(`an unmatched "${this.src[this.pos]}"`);
    return expr;
  }

  private alternation(top: boolean): string {
    const options = [this.sequence(top)];
    while (this.src[this.pos] === '|') {
      this.pos++;
      options.push(this.sequence(top));
    }
    return options.length === 1 ? options[0]! : `( ${options.join(' | ')} )`;
  }

  private sequence(top: boolean): string {
    const items: string[] = [];
    while (this.pos < this.src.length) {
      const c = this.src[this.pos]!;
      if (c === '|' || c === ')') break;
      if (c === '$') {
        // Only an end anchor of the whole pattern (or of a top-level alternative) is meaningful here.
        const atEnd = this.pos === this.src.length - 1 || (top && this.src[this.pos + 1] === '|');
        if (!atEnd) this.fail('"$" before the end of the pattern');
        this.pos++;
        continue;
      }
      if (c === '^') {
        if (!(top && items.length === 0)) this.fail('"^" after the start of the pattern');
        this.pos++;
        continue;
      }
      const leaf = this.src[this.pos] !== '(';
      const atom = this.atom();
      items.push(this.quantified(atom, leaf));
    }
    return items.length === 0 ? '""' : items.join(' ');
  }

  /** `leaf`: the atom is one character or class, with no repetition inside. */
  private quantified(atom: string, leaf: boolean): string {
    const c = this.src[this.pos];
    let out = atom;
    if (c === '?') {
      this.pos++;
      out = `( ${atom} )?`;
    } else if (c === '*' || c === '+') {
      this.pos++;
      out = `( ${atom} ){${c === '*' ? 0 : 1},${leaf ? UNBOUNDED_REPEAT : UNBOUNDED_GROUP_REPEAT}}`;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos));
      if (!m) return atom;
      this.pos += m[0].length;
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? min + (leaf ? UNBOUNDED_REPEAT : UNBOUNDED_GROUP_REPEAT) : Number(m[3]);
      if (min > MAX_REPEAT || (max !== undefined && max > MAX_REPEAT)) this.fail(`a repetition count over ${MAX_REPEAT}`);
      if (max !== undefined && max < min) this.fail(`the repetition {${min},${max}}, whose maximum is below its minimum`);
      out = `( ${atom} ){${min}${m[2] === undefined ? '' : `,${max ?? ''}`}}`;
    } else return atom;
    // Lazy and greedy match the same strings; possessive quantifiers are not JavaScript.
    if (this.src[this.pos] === '?') this.pos++;
    if (/[*+?{]/.test(this.src[this.pos] ?? '') && !(this.src[this.pos] === '{' && !/^\{\d/.test(this.src.slice(this.pos)))) this.fail('a quantifier after a quantifier');
    return out;
  }

  private atom(): string {
    const c = this.src[this.pos]!;
    if (c === '(') return this.group();
    if (c === '[') return ranges(this.charClass());
    if (c === '.') {
      this.pos++;
      return ranges(complement(LINE_TERMINATORS));
    }
    if (c === '\\') {
      const escaped = this.escape(false);
      return typeof escaped === 'number' ? literal(escaped) : ranges(escaped);
    }
    if (c === '*' || c === '+' || c === '?') this.fail(`a quantifier "${c}" with nothing to repeat`);
    const code = this.src.codePointAt(this.pos)!;
    this.pos += code > 0xffff ? 2 : 1;
    return literal(code);
  }

  private group(): string {
    this.pos++;
    if (this.src[this.pos] === '?') {
      const rest = this.src.slice(this.pos);
      if (rest.startsWith('?:')) this.pos += 2;
      else if (/^\?<[A-Za-z_$][\w$]*>/.test(rest)) this.pos = this.src.indexOf('>', this.pos) + 1;
      else this.fail('a lookaround ((?=, (?!, (?<=, (?<!), which a grammar cannot express');
    }
    const inner = this.alternation(false);
    if (this.src[this.pos] !== ')') this.fail('an unclosed "("');
    this.pos++;
    return `( ${inner} )`;
  }

  private charClass(): Range[] {
    this.pos++;
    const negated = this.src[this.pos] === '^';
    if (negated) this.pos++;
    const set: Range[] = [];
    while (this.pos < this.src.length && this.src[this.pos] !== ']') {
      const low = this.classAtom();
      if (typeof low !== 'number') {
        set.push(...low);
        continue;
      }
      if (this.src[this.pos] === '-' && this.src[this.pos + 1] !== ']' && this.pos + 1 < this.src.length) {
        this.pos++;
        const high = this.classAtom();
        if (typeof high !== 'number') this.fail('a class range that ends in a class escape');
        if (high < low) this.fail('a class range out of order');
        set.push([low, high]);
      } else set.push([low, low]);
    }
    if (this.src[this.pos] !== ']') this.fail('an unclosed "["');
    this.pos++;
    const merged = normalise(set);
    return negated ? complement(merged) : merged;
  }

  private classAtom(): number | Range[] {
    if (this.src[this.pos] === '\\') return this.escape(true);
    const code = this.src.codePointAt(this.pos)!;
    this.pos += code > 0xffff ? 2 : 1;
    return code;
  }

  /** A backslash escape: one code point, or a class (\d, \w, \s and their negations). */
  private escape(inClass: boolean): number | Range[] {
    this.pos++;
    const c = this.src[this.pos];
    if (c === undefined) this.fail('a trailing "\\"');
    this.pos++;
    const simple: Record<string, number> = { t: 9, n: 10, v: 11, f: 12, r: 13, '0': 0 };
    if (c in simple && !(c === '0' && /\d/.test(this.src[this.pos] ?? ''))) return simple[c]!;
    if (c === 'd') return DIGIT;
    if (c === 'D') return complement(DIGIT);
    if (c === 'w') return WORD;
    if (c === 'W') return complement(WORD);
    if (c === 's') return SPACE;
    if (c === 'S') return complement(SPACE);
    if (c === 'b' && inClass) return 8;
    if (c === 'b' || c === 'B') this.fail(`a word boundary (\\${c}), which a grammar cannot express`);
    if (/[1-9]/.test(c) || c === 'k') this.fail('a backreference, which a grammar cannot express');
    if (c === 'p' || c === 'P') this.fail(`a Unicode property escape (\\${c}{...})`);
    if (c === 'x' || c === 'u') {
      const m = c === 'x' ? /^[0-9a-fA-F]{2}/.exec(this.src.slice(this.pos)) : /^(\{[0-9a-fA-F]{1,6}\}|[0-9a-fA-F]{4})/.exec(this.src.slice(this.pos));
      if (!m) this.fail(`a malformed \\${c} escape`);
      this.pos += m[0].length;
      return parseInt(m[0].replace(/[{}]/g, ''), 16);
    }
    if (c === 'c') this.fail('a control escape (\\c)');
    if (/[A-Za-z0-9]/.test(c)) this.fail(`the unknown escape \\${c}`);
    return c.codePointAt(0)!;
  }

  private fail(what: string): never {
    throw new RegexNotExpressible(`has ${what} (at character ${this.pos + 1})`);
  }
}

/** Sorted, merged ranges. */
function normalise(set: Range[]): Range[] {
  const sorted = [...set].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function complement(set: Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of normalise(set)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

/** Characters JSON writes as themselves inside a string: not `"`, `\` or a control character. */
const RAW_IN_JSON: Range[] = [[0x20, 0x21], [0x23, 0x5b], [0x5d, 0xd7ff], [0xe000, MAX_CODE_POINT]];

/** A set of characters as GBNF for their JSON-escaped forms. */
function ranges(set: Range[]): string {
  const raw: Range[] = [];
  const escaped: string[] = [];
  for (const [lo, hi] of normalise(set)) {
    for (const [a, b] of RAW_IN_JSON) {
      const from = Math.max(lo, a);
      const to = Math.min(hi, b);
      if (from <= to) raw.push([from, to]);
    }
    for (let c = lo; c <= Math.min(hi, 0x1f); c++) escaped.push(literal(c));
    for (const c of [0x22, 0x5c]) if (lo <= c && c <= hi) escaped.push(literal(c));
  }
  const options = [...(raw.length > 0 ? [`[${raw.map(([a, b]) => (a === b ? classChar(a) : `${classChar(a)}-${classChar(b)}`)).join('')}]`] : []), ...escaped];
  if (options.length === 0) throw new RegexNotExpressible('has a character class that matches nothing a JSON string can hold');
  return options.length === 1 ? options[0]! : `( ${options.join(' | ')} )`;
}

function classChar(code: number): string {
  return code <= 0xff ? `\\x${hex(code, 2)}` : code <= 0xffff ? `\\u${hex(code, 4)}` : `\\U${hex(code, 8)}`;
}

/** One character, JSON-escaped, as a GBNF string literal. */
function literal(code: number): string {
  return gbnfLiteral(JSON.stringify(String.fromCodePoint(code)).slice(1, -1));
}

/** Text as a GBNF string literal. */
export function gbnfLiteral(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (code < 0x20 || code === 0x7f) out += `\\x${hex(code, 2)}`;
    else out += ch;
  }
  return `${out}"`;
}

function hex(n: number, width: number): string {
  return n.toString(16).toUpperCase().padStart(width, '0');
}
