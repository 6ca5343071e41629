/**
 * Ajv instances for the two schema drafts SBOMs use, compiled once per process.
 */
import { Ajv as Ajv7 } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { SchemaValidateFunction, ErrorObject, Plugin, ValidateFunction } from 'ajv';

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
  addLinearUniqueItems(ajv);
  for (const r of refs) ajv.addSchema(withLinearUniqueItems(r));
  return ajv.compile(withLinearUniqueItems(main));
}

export function draft2020Validator(main: object): ValidateFunction {
  const ajv = new Ajv2020({ allErrors: false, strict: false, validateFormats: true });
  addFormats(ajv);
  addLinearUniqueItems(ajv);
  return ajv.compile(withLinearUniqueItems(main));
}

/**
 * ajv checks `uniqueItems` on object arrays by comparing every pair, which makes a 10k-file SBOM take
 * tens of seconds; this keyword keys each item by its canonical JSON instead (same equality, one pass).
 */
const UNIQUE_BY_VALUE = 'uniqueItemsByValue';

function addLinearUniqueItems(ajv: Ajv7 | Ajv2020): void {
  const validate: SchemaValidateFunction = (schema: boolean, data: unknown[]) => {
    if (!schema) return true;
    const firstAt = new Map<string, number>();
    for (let j = 0; j < data.length; j++) {
      const key = canonicalJson(data[j]);
      const i = firstAt.get(key);
      if (i !== undefined) {
        validate.errors = [{ keyword: 'uniqueItems', message: `must NOT have duplicate items (items ## ${i} and ${j} are identical)`, params: { i, j } }];
        return false;
      }
      firstAt.set(key, j);
    }
    return true;
  };
  ajv.addKeyword({ keyword: UNIQUE_BY_VALUE, type: 'array', schemaType: 'boolean', errors: true, validate });
}

/** A copy of `schema` with every `uniqueItems` replaced by the linear keyword. */
export function withLinearUniqueItems<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map(withLinearUniqueItems) as T;
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k === 'uniqueItems' ? UNIQUE_BY_VALUE : k] = k === 'uniqueItems' ? v : withLinearUniqueItems(v);
  return out as T;
}

/** JSON with object keys sorted, so two values ajv's deep equality calls equal give the same string. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
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
