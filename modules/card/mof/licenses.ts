/**
 * Licence questions the MOF asks (is it open? does it suit the content type?) answered exactly as
 * the MOT's LicenseHandler answers them, plus turning the ids people write (Hugging Face ids,
 * lower-case SPDX, LicenseRef-) into SPDX ids.
 */
import { LICENSES, OPEN_DATA_LICENSES, TYPE_APPROPRIATE, type ContentType } from './license-data.js';

/** Open as the MOT means it: FSF libre, on its open-data list, or OSI approved. Exact, case-sensitive ids. */
export function isOpenLicense(id: string): boolean {
  const facts = LICENSES.get(id);
  return (facts !== undefined && (facts.osiApproved || facts.fsfLibre)) || OPEN_DATA_LICENSES.includes(id);
}

export function isTypeAppropriate(id: string, type: ContentType): boolean {
  return TYPE_APPROPRIATE[id]?.includes(type) ?? false;
}

const LOWER_SPDX = new Map([...LICENSES.keys()].map((id) => [id.toLowerCase(), id]));

/**
 * Hugging Face `license:` ids that are not SPDX ids. Values are SPDX ids where one exists,
 * otherwise LicenseRef- ids (none of which is an open licence to the MOT).
 */
const HF_LICENSE_IDS: Record<string, string> = {
  'gpl-3.0': 'GPL-3.0-only',
  'gpl-2.0': 'GPL-2.0-only',
  'gpl': 'GPL-3.0-or-later',
  'lgpl': 'LGPL-3.0-or-later',
  'lgpl-3.0': 'LGPL-3.0-only',
  'lgpl-2.1': 'LGPL-2.1-only',
  'agpl-3.0': 'AGPL-3.0-only',
  'gfdl': 'GFDL-1.3-or-later',
  'odbl': 'ODbL-1.0',
  'odc-by': 'ODC-By-1.0',
  'pddl': 'PDDL-1.0',
  'cc': 'LicenseRef-cc',
  'openrail': 'LicenseRef-openrail',
  'openrail++': 'LicenseRef-openrail-plusplus',
  'creativeml-openrail-m': 'LicenseRef-creativeml-openrail-m',
  'bigscience-openrail-m': 'LicenseRef-bigscience-openrail-m',
  'bigscience-bloom-rail-1.0': 'LicenseRef-bigscience-bloom-rail-1.0',
  'bigcode-openrail-m': 'LicenseRef-bigcode-openrail-m',
  'llama2': 'LicenseRef-llama2',
  'llama3': 'LicenseRef-llama3',
  'llama3.1': 'LicenseRef-llama3.1',
  'llama3.2': 'LicenseRef-llama3.2',
  'llama3.3': 'LicenseRef-llama3.3',
  'llama4': 'LicenseRef-llama4',
  'gemma': 'LicenseRef-gemma',
  'deepfloyd-if-license': 'LicenseRef-deepfloyd-if-license',
  'intel-research': 'LicenseRef-intel-research',
  'lgpl-lr': 'LicenseRef-lgpl-lr',
  'apple-ascl': 'LicenseRef-apple-ascl',
  'apple-amlr': 'LicenseRef-apple-amlr',
  'h-research': 'LicenseRef-h-research',
  'fair-noncommercial-research-license': 'LicenseRef-fair-noncommercial-research-license',
  'unknown': 'NOASSERTION',
};

export type LicenseIdResult =
  | { ok: true; id: string; /** the input when it was rewritten */ from?: string }
  | { ok: false; input: string; message: string };

/**
 * The SPDX id for what a person wrote: exact SPDX, SPDX in another case, a Hugging Face id, a
 * LicenseRef-, or NOASSERTION. Anything else fails with a message naming it and what to write.
 */
export function normalizeLicenseId(raw: string): LicenseIdResult {
  const input = raw.trim();
  if (LICENSES.has(input) || input === 'NOASSERTION') return { ok: true, id: input };
  if (/^(DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.+-]+$/.test(input)) return { ok: true, id: input };
  const lower = input.toLowerCase();
  const mapped = HF_LICENSE_IDS[lower] ?? LOWER_SPDX.get(lower);
  if (mapped) return { ok: true, id: mapped, from: input };
  return {
    ok: false,
    input,
    message: `unknown license id "${input}": use an SPDX id (https://spdx.org/licenses/, e.g. Apache-2.0, CC-BY-4.0) or, for a licence SPDX does not list, LicenseRef-<name>`,
  };
}

/** The Hugging Face `license:` value for an SPDX id: HF's own id where it has one, else `other`. */
export function hfLicenseFor(spdx: string): { license: string; licenseName?: string } {
  for (const [hf, id] of Object.entries(HF_LICENSE_IDS)) if (id === spdx && hf !== 'unknown') return { license: hf };
  if (spdx.startsWith('LicenseRef-')) return { license: 'other', licenseName: spdx.slice('LicenseRef-'.length) };
  if (LICENSES.has(spdx)) return { license: spdx.toLowerCase() };
  return { license: 'other', licenseName: spdx };
}

/**
 * Pick the licence the MOT should see for an SPDX expression: an `OR` lets the recipient choose,
 * so take an open, type-appropriate choice first; other expressions stay as written.
 */
export function chooseFromExpression(expression: string, type: ContentType): string {
  const parts = expression.replace(/[()]/g, ' ').split(/\s+OR\s+/).map((p) => p.trim()).filter(Boolean);
  if (parts.length < 2 || parts.some((p) => /\s(AND|WITH)\s/.test(p))) return expression.trim();
  return parts.find((p) => isOpenLicense(p) && isTypeAppropriate(p, type)) ?? parts.find(isOpenLicense) ?? parts[0]!;
}
