/**
 * The licence table the evaluator carries must be what the MOT imports from its upstream files.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LICENSES, TYPE_APPROPRIATE } from '../../modules/card/mof/license-data.js';
import { detectLicense, hfLicenseFor, isOpenLicense, isTypeAppropriate, normalizeLicenseId } from '../../modules/card/index.js';
import { vectorPath } from '../helpers/vectors.js';

const MOF = vectorPath('mof');

interface Upstream { licenseId: string; isOsiApproved?: boolean; isFsfLibre?: boolean; isDeprecatedLicenseId?: boolean; ContentType?: string | string[] }

describe('licence table', () => {
  const mot = (JSON.parse(readFileSync(path.join(MOF, 'mof-licenses.json'), 'utf8')) as { licenses: Upstream[] }).licenses;
  const spdx = (JSON.parse(readFileSync(path.join(MOF, 'licenses.spdx-list.json'), 'utf8')) as { licenses: Upstream[] }).licenses;
  const merged = new Map<string, Upstream>();
  for (const l of [...mot, ...spdx]) if (!merged.has(l.licenseId)) merged.set(l.licenseId, l);

  it('has every id of mof-licenses.json and the SPDX list, with the same OSI/FSF/deprecated flags', () => {
    expect(LICENSES.size).toBe(merged.size);
    for (const [id, l] of merged) {
      expect(LICENSES.get(id), id).toEqual({ osiApproved: !!l.isOsiApproved, fsfLibre: !!l.isFsfLibre, deprecated: !!l.isDeprecatedLicenseId });
    }
  });

  it('has the type-appropriate content types of mof-licenses.json (first entry per id)', () => {
    const want: Record<string, string[]> = {};
    for (const [id, l] of merged) if (l.ContentType) want[id] = ([] as string[]).concat(l.ContentType);
    expect(TYPE_APPROPRIATE).toEqual(want);
  });

  it('answers openness and type questions as the MOT does', () => {
    expect(isOpenLicense('Apache-2.0')).toBe(true);
    expect(isOpenLicense('CC-BY-4.0')).toBe(true);
    expect(isOpenLicense('ODbL-1.0')).toBe(true);
    expect(isOpenLicense('CC-BY-NC-4.0')).toBe(false);
    expect(isOpenLicense('LicenseRef-llama3.1')).toBe(false);
    expect(isOpenLicense('apache-2.0')).toBe(false);
    expect(isTypeAppropriate('CC-BY-4.0', 'document')).toBe(true);
    expect(isTypeAppropriate('MIT', 'data')).toBe(false);
  });
});

describe('licence ids', () => {
  it('maps Hugging Face ids and case variants to SPDX', () => {
    expect(normalizeLicenseId('apache-2.0')).toEqual({ ok: true, id: 'Apache-2.0', from: 'apache-2.0' });
    expect(normalizeLicenseId('llama3.1')).toMatchObject({ ok: true, id: 'LicenseRef-llama3.1' });
    expect(normalizeLicenseId('openrail')).toMatchObject({ ok: true, id: 'LicenseRef-openrail' });
    expect(normalizeLicenseId('gpl-3.0')).toMatchObject({ ok: true, id: 'GPL-3.0-only' });
    expect(normalizeLicenseId('LicenseRef-acme-model')).toEqual({ ok: true, id: 'LicenseRef-acme-model' });
  });

  it('refuses an unknown id with a message that names it and suggests SPDX or LicenseRef-', () => {
    const r = normalizeLicenseId('Apache2');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toContain('"Apache2"');
      expect(r.message).toContain('LicenseRef-');
      expect(r.message).toContain('spdx.org');
    }
  });

  it('writes SPDX ids back as Hugging Face card ids', () => {
    expect(hfLicenseFor('Apache-2.0')).toEqual({ license: 'apache-2.0' });
    expect(hfLicenseFor('LicenseRef-llama3.1')).toEqual({ license: 'llama3.1' });
    expect(hfLicenseFor('LicenseRef-acme')).toEqual({ license: 'other', licenseName: 'acme' });
  });

  it('recognises LICENSE files by name, SPDX tag and text', () => {
    expect(detectLicense('LICENSE', readFileSync(path.join(MOF, 'LICENSE.MOT.txt'), 'utf8'))).toBe('MIT');
    expect(detectLicense('LICENSE.CC-BY-4.0', '')).toBe('CC-BY-4.0');
    expect(detectLicense('LICENSE', 'SPDX-License-Identifier: CDLA-Permissive-2.0\n')).toBe('CDLA-Permissive-2.0');
    expect(detectLicense('LICENSE', 'All rights reserved.')).toBeUndefined();
  });
});
