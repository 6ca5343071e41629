import { describe, expect, it } from 'vitest';
import { escapeControl } from '../../modules/cli/escape.js';
import { jsonDepth, parseJsonBounded } from '../../modules/json/bounded.js';
import { parseCard } from '../../modules/card/card/front-matter.js';

describe('escapeControl', () => {
  it('shows C0, DEL, C1 and bidirectional overrides as escapes and keeps newlines, tabs and text', () => {
    expect(escapeControl('\x1b[2J\rFAKE OK\x07\x7f\u009b\u202eevil\u2066')).toBe('\\x1b[2J\\x0dFAKE OK\\x07\\x7f\\x9b\\u202eevil\\u2066');
    expect(escapeControl('line one\n\tline two, naïve 日本語 🤗')).toBe('line one\n\tline two, naïve 日本語 🤗');
  });
});

describe('bounded JSON', () => {
  it('measures nesting without recursion, skipping brackets inside strings', () => {
    expect(jsonDepth('{"a":[1,{"b":"[[[[\\"[["}]}')).toBe(3);
    expect(jsonDepth('['.repeat(1_000_000), 256)).toBe(257);
  });

  it('refuses past the bound with the caller\'s error, and parses within it', () => {
    expect(() => parseJsonBounded(`${'['.repeat(300)}${']'.repeat(300)}`, (limit) => new Error(`deeper than ${limit}`))).toThrow('deeper than 256');
    expect(parseJsonBounded('{"a":[[1]]}', () => new Error('no'))).toEqual({ a: [[1]] });
  });
});

describe('a YAML alias bomb in README front matter', () => {
  it('is CARD_INVALID naming the file, not an internal error', () => {
    const rows = ['a: &a [x,x,x,x,x,x,x,x,x]'];
    for (const [name, prev] of [['b', 'a'], ['c', 'b'], ['d', 'c'], ['e', 'd'], ['f', 'e']]) rows.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    expect(() => parseCard(`---\n${rows.join('\n')}\n---\n# model\n`, 'README.md')).toThrow(
      expect.objectContaining({ code: 'CARD_INVALID', message: expect.stringContaining('README.md:2: front matter is not usable: Excessive alias count') }),
    );
  });
});
