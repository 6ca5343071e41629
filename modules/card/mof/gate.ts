/** The MOF gate: a class passes `require` when it is at least as open (Class I satisfies Class III). */
import type { MofEvaluation } from './evaluate.js';

export const ROMAN_CLASS = ['0', 'I', 'II', 'III'] as const;

export function meetsClass(cls: number, require: 1 | 2 | 3): boolean {
  return cls !== 0 && cls <= require;
}

/** What keeps an evaluation from Class `require`: one line per component, missing or not openly licensed. */
export function gateGaps(e: MofEvaluation, require: 1 | 2 | 3): string[] {
  const key = String(require) as '1' | '2' | '3';
  return [
    ...e.missing[key].map((n) => `add ${n} (missing)`),
    ...e.invalid[key].map((n) => `relicense ${n} under an open licence (now ${e.licenses[n] ?? 'not open'})`),
    ...e.unlicensed[key].map((n) => `give ${n} a licence (it has none)`),
  ].filter((line, i, all) => all.indexOf(line) === i);
}
