/**
 * Licence questions the MOF asks (is it open? does it suit the content type?) answered exactly as
 * the MOT's LicenseHandler answers them, plus turning the ids people write (Hugging Face ids,
 * lower-case SPDX, LicenseRef-) into SPDX ids.
 */
import { HF_LICENSE_IDS } from '../../project/huggingface.js';
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

/** Hugging Face ids as SPDX ids, plus HF's `unknown`, which asserts nothing. */
const HF_TO_SPDX: Readonly<Record<string, string>> = { ...HF_LICENSE_IDS, unknown: 'NOASSERTION' };

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
  const mapped = HF_TO_SPDX[lower] ?? LOWER_SPDX.get(lower);
  if (mapped) return { ok: true, id: mapped, from: input };
  return {
    ok: false,
    input,
    message: `unknown license id "${input}": use an SPDX id (https://spdx.org/licenses/, e.g. Apache-2.0, CC-BY-4.0) or, for a licence SPDX does not list, LicenseRef-<name>`,
  };
}

/** The Hugging Face `license:` value for an SPDX id: HF's own id where it has one, else `other`. */
export function hfLicenseFor(spdx: string): { license: string; licenseName?: string } {
  for (const [hf, id] of Object.entries(HF_LICENSE_IDS)) if (id === spdx) return { license: hf };
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
