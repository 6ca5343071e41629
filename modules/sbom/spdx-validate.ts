/**
 * SPDX 3.0.1 checks: the official JSON schema (draft 2020-12), then the minimums it does not
 * enforce: unique spdxIds, relationship endpoints that exist, exactly one concluded and one
 * declared licence per package, and a datasetType on every dataset.
 */
import type { ValidateFunction } from 'ajv';
import { draft2020Validator, schemaErrors, type SchemaError } from './ajv.js';
import { readSchema } from './locate.js';

let validator: ValidateFunction | undefined;

/** Individuals the SPDX model defines; relationships may point at them without a graph entry. */
const INDIVIDUALS = new Set([
  'NoAssertionElement',
  'NoneElement',
  'SpdxOrganization',
  'expandedlicensing_NoAssertionLicense',
  'expandedlicensing_NoneLicense',
]);
const PACKAGE_TYPES = new Set(['software_Package', 'ai_AIPackage', 'dataset_DatasetPackage']);

type Json = Record<string, unknown>;
const rec = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function validateSpdx(doc: unknown): SchemaError[] {
  validator ??= draft2020Validator(readSchema('spdx3', 'spdx-3.0.1-json-schema.json'));
  const errors: SchemaError[] = validator(doc) ? [] : schemaErrors(validator.errors);
  return [...errors, ...spdxMinimums(doc)];
}

/** The checks the schema leaves out, usable on their own. */
export function spdxMinimums(doc: unknown): SchemaError[] {
  const errors: SchemaError[] = [];
  const graph = arr(rec(doc)['@graph']).map(rec);
  const ids = new Map<string, number>();
  graph.forEach((el, i) => {
    const id = el['spdxId'] ?? el['@id'];
    if (typeof id !== 'string') return;
    if (ids.has(id)) errors.push({ path: `/@graph/${i}/spdxId`, message: `"${id}" is also the id of /@graph/${ids.get(id)}` });
    else ids.set(id, i);
  });
  const exists = (id: unknown) => typeof id === 'string' && (ids.has(id) || INDIVIDUALS.has(id));
  const licenses = new Map<string, { declared: number; concluded: number }>();
  graph.forEach((el, i) => {
    if (el['type'] !== 'Relationship') return;
    const from = el['from'];
    if (!exists(from)) errors.push({ path: `/@graph/${i}/from`, message: `relationship source "${String(from)}" is not in the document` });
    arr(el['to']).forEach((to, j) => {
      if (!exists(to)) errors.push({ path: `/@graph/${i}/to/${j}`, message: `relationship target "${String(to)}" is not in the document` });
    });
    const type = el['relationshipType'];
    if (typeof from === 'string' && (type === 'hasDeclaredLicense' || type === 'hasConcludedLicense')) {
      const count = licenses.get(from) ?? { declared: 0, concluded: 0 };
      const n = arr(el['to']).length;
      if (type === 'hasDeclaredLicense') count.declared += n;
      else count.concluded += n;
      licenses.set(from, count);
    }
  });
  graph.forEach((el, i) => {
    const type = String(el['type']);
    if (!PACKAGE_TYPES.has(type)) return;
    const id = String(el['spdxId']);
    const count = licenses.get(id) ?? { declared: 0, concluded: 0 };
    if (count.declared !== 1) {
      errors.push({ path: `/@graph/${i}`, message: `${type} "${id}" has ${count.declared} hasDeclaredLicense relationships; it needs exactly one (use expandedlicensing_NoAssertionLicense when unknown)` });
    }
    if (count.concluded !== 1) {
      errors.push({ path: `/@graph/${i}`, message: `${type} "${id}" has ${count.concluded} hasConcludedLicense relationships; it needs exactly one (use expandedlicensing_NoAssertionLicense when unknown)` });
    }
    if (type === 'dataset_DatasetPackage' && arr(el['dataset_datasetType']).length === 0) {
      errors.push({ path: `/@graph/${i}/dataset_datasetType`, message: `dataset "${id}" has no dataset_datasetType; give at least one (noAssertion when unknown)` });
    }
  });
  return errors;
}
