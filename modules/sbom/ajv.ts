/**
 * Ajv instances for the two schema drafts SBOMs use, compiled once per process.
 */
import { Ajv as Ajv7 } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ErrorObject, Plugin, ValidateFunction } from 'ajv';

// ajv-formats is CommonJS with only a default export; under NodeNext the plugin sits on `default`.
const addFormats = ((addFormatsModule as unknown as { default?: Plugin<unknown> }).default ?? addFormatsModule) as unknown as Plugin<unknown>;

export interface SchemaError {
  /** JSON pointer of the bad value, e.g. `/components/3/hashes/0/content`. */
  path: string;
  message: string;
}

export function draft7Validator(main: object, refs: object[]): ValidateFunction {
  const ajv = new Ajv7({ allErrors: true, strict: false, validateFormats: true });
  addFormats(ajv);
  addInternationalFormats(ajv);
  for (const r of refs) ajv.addSchema(r);
  return ajv.compile(main);
}

export function draft2020Validator(main: object): ValidateFunction {
  const ajv = new Ajv2020({ allErrors: false, strict: false, validateFormats: true });
  addFormats(ajv);
  return ajv.compile(main);
}

/** ajv-formats lacks the IRI and IDN formats CycloneDX uses; check what RFC 3987 and 6531 rule out. */
function addInternationalFormats(ajv: Ajv7): void {
  ajv.addFormat('iri-reference', /^[^\s<>"{}|\\^`\u0000-\u001f]*$/u);
  ajv.addFormat('iri', /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|\\^`\u0000-\u001f]*$/u);
  ajv.addFormat('idn-email', /^[^\s@]+@[^\s@]+$/u);
}

export function schemaErrors(errors: ErrorObject[] | null | undefined): SchemaError[] {
  const seen = new Set<string>();
  const out: SchemaError[] = [];
  for (const e of errors ?? []) {
    const extra = e.keyword === 'additionalProperties' ? ` "${String((e.params as { additionalProperty?: string }).additionalProperty)}"` : e.keyword === 'enum' ? ` (${((e.params as { allowedValues?: unknown[] }).allowedValues ?? []).slice(0, 8).join(', ')})` : '';
    const line = { path: e.instancePath || '/', message: `${e.message ?? e.keyword}${extra}` };
    const key = `${line.path} ${line.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(line);
    }
  }
  return out;
}
