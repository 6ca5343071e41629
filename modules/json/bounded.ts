/**
 * JSON from artifacts and registries is untrusted: JSON.parse itself copes with any nesting, but
 * every recursive walk after it (schema checks, key rewrites, JSON.stringify) overflows the stack on
 * a few hundred thousand `[`. Nesting is measured first, without recursion, and refused past a bound.
 */

/** Far deeper than any manifest, config or SBOM nests, far shallower than a stack overflow. */
export const MAX_JSON_DEPTH = 256;

/** The deepest nesting of arrays and objects in `text` (strings skipped), counted no further than `limit` + 1. */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest && (deepest = depth) > limit) return deepest;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** JSON.parse, after refusing nesting deeper than `limit` with the error `tooDeep` builds. */
export function parseJsonBounded(text: string, tooDeep: (limit: number) => Error, limit = MAX_JSON_DEPTH): unknown {
  if (jsonDepth(text, limit) > limit) throw tooDeep(limit);
  return JSON.parse(text);
}
