/**
 * PEP 508 requirement strings: `name[extra1,extra2] (>=1,<2) ; marker`.
 */
import { normalizePypiName } from '../purl.js';

export interface PythonRequirement {
  name: string;
  extras: string[];
  /** e.g. `==1.2.3` or `>=2,<3`; empty when unconstrained. */
  specifier: string;
  marker?: string;
  /** The exact version when the specifier is a single `==` / `===` pin without wildcards. */
  pinned?: string;
}

const REQUIREMENT = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*(.*)$/;

/** Undefined for lines that are not a named requirement (URLs, paths). */
export function parsePep508(text: string): PythonRequirement | undefined {
  const [body, ...markerParts] = text.split(';');
  const marker = markerParts.join(';').trim();
  const m = REQUIREMENT.exec(body!.trim());
  if (!m) return undefined;
  let specifier = m[3]!.trim();
  if (specifier.startsWith('@')) return undefined; // direct URL reference: no registry version
  specifier = specifier.replace(/^\((.*)\)$/, '$1').replace(/\s+/g, '');
  if (specifier !== '' && !/^(===?|[<>!~]=?)/.test(specifier)) return undefined; // `git+https://…` and other non-requirements
  const pin = /^===?([^,*]+)$/.exec(specifier);
  return {
    name: normalizePypiName(m[1]!),
    extras: m[2] ? m[2].split(',').map((e) => e.trim()).filter(Boolean) : [],
    specifier,
    ...(marker ? { marker } : {}),
    ...(pin ? { pinned: pin[1]! } : {}),
  };
}

/** A marker such as `extra == "gpu"` makes the requirement optional. */
export function isExtraMarker(marker: string | undefined): boolean {
  return marker !== undefined && /\bextra\s*==/.test(marker);
}
