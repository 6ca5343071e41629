/**
 * The MOF class of a model, computed the way the Model Openness Tool's ModelEvaluator computes it
 * (evaluate(), getProgress(), getClassification()), including its quirks, so our numbers are the
 * MOT's numbers: licence resolution component -> global type -> distribution; open = OSI/FSF/open
 * data; open but not type-appropriate counts with a warning; a research paper stands in for a
 * technical report; a class's progress is 0 until every higher class is complete.
 */
import { CLASS_LABELS, componentById, optionalIds, requiredIds, type MofClass } from './components.js';
import { isOpenLicense, isTypeAppropriate } from './licenses.js';
import type { MotDocument } from './mot-document.js';

type Bucket = 'included' | 'invalid' | 'unlicensed' | 'missing' | 'optional';

interface ClassEvaluation {
  missing: number[];
  included: number[];
  invalid: number[];
  unlicensed: number[];
  optional: number[];
  licenses: Map<number, string>;
}

export interface MofEvaluation {
  class: 0 | MofClass;
  label: string;
  /** Per-class progress in percent, as the MOT reports it (not rounded). */
  progress: { '1': number; '2': number; '3': number };
  /** Per class (cumulative, as the MOT lists it): required components not in the release. */
  missing: { '1': string[]; '2': string[]; '3': string[] };
  /** Per class: listed components (required, and optional ones the class lists) under a licence that is not open. */
  invalid: { '1': string[]; '2': string[]; '3': string[] };
  /** Per class: listed components without any licence. */
  unlicensed: { '1': string[]; '2': string[]; '3': string[] };
  /** Components counted as open although their licence is not meant for their content type. */
  notTypeAppropriate: string[];
  /** The licence each listed component resolved to ('unlicensed' when none). */
  licenses: Record<string, string>;
}

/** PHP array_search: the index, or false; index 0 is falsy to the MOT's `!` checks. */
function phpSearch(list: number[], value: number): number | false {
  const i = list.indexOf(value);
  return i < 0 ? false : i;
}

export function evaluateMot(doc: MotDocument): MofEvaluation {
  const release = doc.release;
  const componentLicenses = new Map<number, string | null>();
  const present: number[] = [];
  for (const c of release.components) {
    present.push(c.id);
    // The MOT stores "unlicensed" as an empty licence, which then never falls back to a global one.
    if (c.license !== undefined) componentLicenses.set(c.id, c.license === 'unlicensed' ? '' : c.license);
  }
  const resolve = (cid: number): string | null => {
    if (componentLicenses.has(cid)) return componentLicenses.get(cid) || null;
    const type = componentById(cid).contentType;
    const global = release.license;
    return global[type]?.name || global.distribution?.name || null;
  };

  const notTypeAppropriate: number[] = [];
  const evals = {} as Record<MofClass, ClassEvaluation>;
  let required: number[] = [];
  let optional: number[] = [];
  for (const cls of [3, 2, 1] as const) {
    const ev: ClassEvaluation = { missing: [], included: [], invalid: [], unlicensed: [], optional: [], licenses: new Map() };
    required = [...required, ...requiredIds(cls)];
    optional = [...optional, ...optionalIds(cls)];
    for (const [list, openBucket] of [[required, 'included'], [optional, 'optional']] as const) {
      for (const cid of list) {
        if (!present.includes(cid)) {
          if (openBucket === 'included') ev.missing.push(cid);
          continue;
        }
        const license = resolve(cid) ?? 'unlicensed';
        const bucket: Bucket = isOpenLicense(license) ? openBucket : license === 'unlicensed' ? 'unlicensed' : 'invalid';
        if (isOpenLicense(license) && !isTypeAppropriate(license, componentById(cid).contentType) && !notTypeAppropriate.includes(cid)) {
          notTypeAppropriate.push(cid);
        }
        ev[bucket].push(cid);
        ev.licenses.set(cid, license);
      }
    }
    evals[cls] = ev;
  }

  // A research paper (21) may stand in for the technical report (11), as the MOT decides it.
  if (!phpSearch(evals[3].included, 11)) {
    const status: 'included' | 'invalid' | 'unlicensed' | false =
      phpSearch(evals[1].included, 21) !== false ? 'included'
        : phpSearch(evals[1].invalid, 21) !== false ? 'invalid'
          : phpSearch(evals[1].unlicensed, 21) !== false ? 'unlicensed' : false;
    if (status !== false) {
      for (const cls of [3, 2, 1] as const) {
        const at = evals[cls].missing.indexOf(11);
        if (at >= 0) evals[cls].missing.splice(at, 1);
      }
      for (const cls of [3, 2] as const) {
        evals[cls][status].push(21);
        evals[cls].licenses.set(21, evals[1].licenses.get(21)!);
      }
    }
  }

  const progressOf = (cls: MofClass): number => {
    let total = 0;
    let included = 0;
    let i = 3;
    for (; i >= cls; i--) {
      total += requiredIds(i as MofClass).length;
      included = evals[i as MofClass].included.length;
      if (included < total) break;
    }
    if (i > cls) return 0;
    if (cls === 1 && !phpSearch(evals[1].included, 11) && phpSearch(evals[1].included, 21)) total--;
    return Math.min((included / total) * 100, 100);
  };
  const progress = { '1': progressOf(1), '2': progressOf(2), '3': progressOf(3) };
  let cls: 0 | MofClass = 0;
  for (const c of [3, 2, 1] as const) if (progress[c] === 100) cls = c;

  const names = (ids: number[]) => ids.map((id) => componentById(id).name);
  const perClass = (key: 'missing' | 'invalid' | 'unlicensed') => ({
    '1': names(evals[1][key]),
    '2': names(evals[2][key]),
    '3': names(evals[3][key]),
  });
  const licenses: Record<string, string> = {};
  for (const [cid, license] of evals[1].licenses) licenses[componentById(cid).name] = license;
  return {
    class: cls,
    label: CLASS_LABELS[cls],
    progress,
    missing: perClass('missing'),
    invalid: perClass('invalid'),
    unlicensed: perClass('unlicensed'),
    notTypeAppropriate: names(notTypeAppropriate),
    licenses,
  };
}

/** A class passes `require` when it is at least as open: Class I satisfies --require 3. */
export function meetsClass(cls: number, require: 1 | 2 | 3): boolean {
  return cls !== 0 && cls <= require;
}
