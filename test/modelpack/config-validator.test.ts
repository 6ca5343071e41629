import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configValidatorSource, GENERATED_PATH } from '../../scripts/generate-config-validator.mjs';

// The config schema is compiled ahead (start-up cost, issue 20); a stale copy would validate an old schema.
describe('generated config schema validator', () => {
  it('is what the schema and the installed ajv compile to now (else run: node scripts/generate-config-validator.mjs)', () => {
    expect(readFileSync(GENERATED_PATH, 'utf8')).toBe(configValidatorSource());
  });

  it('loads without ajv or its compiler', () => {
    const text = readFileSync(GENERATED_PATH, 'utf8');
    const required = [...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]).sort();
    expect([...new Set(required)]).toEqual(['ajv-formats/dist/formats', 'ajv/dist/runtime/ucs2length']);
  });
});
