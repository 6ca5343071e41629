/**
 * The SPDX id a LICENSE file stands for, from its name (LICENSE.CC-BY-4.0), an
 * SPDX-License-Identifier line, or the opening words of the common licence texts.
 */
import { normalizeLicenseId } from './licenses.js';

const LICENSE_FILE = /^(licen[cs]e|copying|notice)([-._][^/]*)?(\.(md|txt|rst))?$/i;

export function isLicenseFileName(base: string): boolean {
  return LICENSE_FILE.test(base);
}

/** Texts recognised by phrases every copy of them carries; order matters (most specific first). */
const FINGERPRINTS: [RegExp, string][] = [
  [/Apache License[\s\S]{0,40}Version 2\.0/i, 'Apache-2.0'],
  [/Attribution-NonCommercial-ShareAlike 4\.0/i, 'CC-BY-NC-SA-4.0'],
  [/Attribution-NonCommercial 4\.0/i, 'CC-BY-NC-4.0'],
  [/Attribution-ShareAlike 4\.0/i, 'CC-BY-SA-4.0'],
  [/Attribution 4\.0 International/i, 'CC-BY-4.0'],
  [/CC0 1\.0 Universal/i, 'CC0-1.0'],
  [/Community Data License Agreement\s*[–-]\s*Permissive\s*[–-]\s*Version 2\.0/i, 'CDLA-Permissive-2.0'],
  [/Community Data License Agreement\s*[–-]\s*Permissive\s*[–-]\s*Version 1\.0/i, 'CDLA-Permissive-1.0'],
  [/Open Data Commons Open Database License/i, 'ODbL-1.0'],
  [/Open Data Commons Attribution License/i, 'ODC-By-1.0'],
  [/GNU AFFERO GENERAL PUBLIC LICENSE\s+Version 3/i, 'AGPL-3.0-only'],
  [/GNU LESSER GENERAL PUBLIC LICENSE\s+Version 3/i, 'LGPL-3.0-only'],
  [/GNU GENERAL PUBLIC LICENSE\s+Version 3/i, 'GPL-3.0-only'],
  [/GNU GENERAL PUBLIC LICENSE\s+Version 2/i, 'GPL-2.0-only'],
  [/Mozilla Public License,? (version )?2\.0/i, 'MPL-2.0'],
  [/Permission is hereby granted, free of charge/i, 'MIT'],
  [/Redistribution and use in source and binary forms[\s\S]*Neither the name/i, 'BSD-3-Clause'],
  [/Redistribution and use in source and binary forms/i, 'BSD-2-Clause'],
  [/This is free and unencumbered software released into the public domain/i, 'Unlicense'],
  [/LLAMA 3\.1 COMMUNITY LICENSE/i, 'LicenseRef-llama3.1'],
  [/LLAMA 3 COMMUNITY LICENSE/i, 'LicenseRef-llama3'],
  [/LLAMA 2 COMMUNITY LICENSE/i, 'LicenseRef-llama2'],
  [/Gemma Terms of Use/i, 'LicenseRef-gemma'],
];

/** The licence a LICENSE file declares, or undefined when it cannot tell. `text` is its first few KiB. */
export function detectLicense(base: string, text: string): string | undefined {
  const suffix = /^(?:licen[cs]e|copying)[-._](.+?)(?:\.(?:md|txt|rst))?$/i.exec(base)?.[1];
  if (suffix) {
    const named = normalizeLicenseId(suffix);
    if (named.ok) return named.id;
  }
  const tag = /SPDX-License-Identifier:\s*([A-Za-z0-9.+-]+)/.exec(text)?.[1];
  if (tag) {
    const named = normalizeLicenseId(tag);
    if (named.ok) return named.id;
  }
  return FINGERPRINTS.find(([re]) => re.test(text))?.[1];
}
