/**
 * Checks CycloneDX 1.6 JSON against the official schema plus the references the schema cannot
 * see, and reads a BOM back into a small typed view.
 */
import { parseJsonBounded } from '../json/bounded.js';
import type { ValidateFunction } from 'ajv';
import { ModelshipError } from '../errors/index.js';
import { draft7Validator, schemaErrors, type SchemaError } from './ajv.js';
import { readSchema } from './locate.js';

let validator: ValidateFunction | undefined;

function cyclonedxSchema(): ValidateFunction {
  validator ??= draft7Validator(readSchema('cyclonedx', 'bom-1.6.schema.json'), [
    readSchema('cyclonedx', 'spdx.schema.json'),
    readSchema('cyclonedx', 'jsf-0.82.schema.json'),
  ]);
  return validator;
}

type Json = Record<string, unknown>;
const rec = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Schema errors, then duplicate bom-refs and dependency refs that name no component. */
export function validateCycloneDx(bom: unknown): SchemaError[] {
  const validate = cyclonedxSchema();
  if (!validate(bom)) return schemaErrors(validate.errors);
  const errors: SchemaError[] = [];
  const refs = new Map<string, string>();
  const visit = (c: Json, where: string) => {
    const ref = c['bom-ref'];
    if (typeof ref === 'string') {
      if (refs.has(ref)) errors.push({ path: `${where}/bom-ref`, message: `bom-ref "${ref}" is also used at ${refs.get(ref)}` });
      else refs.set(ref, where);
    }
    arr(c['components']).forEach((child, i) => visit(rec(child), `${where}/components/${i}`));
  };
  const b = rec(bom);
  const meta = rec(b['metadata']);
  if (meta['component']) visit(rec(meta['component']), '/metadata/component');
  arr(b['components']).forEach((c, i) => visit(rec(c), `/components/${i}`));
  for (const svc of arr(b['services'])) {
    const ref = rec(svc)['bom-ref'];
    if (typeof ref === 'string') refs.set(ref, 'services');
  }
  arr(b['dependencies']).forEach((raw, i) => {
    const d = rec(raw);
    for (const [j, ref] of [[-1, d['ref']] as const, ...arr(d['dependsOn']).map((r, k) => [k, r] as const)]) {
      if (typeof ref === 'string' && !refs.has(ref)) {
        errors.push({ path: `/dependencies/${i}${j < 0 ? '/ref' : `/dependsOn/${j}`}`, message: `"${ref}" is not the bom-ref of any component` });
      }
    }
  });
  return errors;
}

export interface CycloneDxComponentView {
  bomRef?: string;
  type: string;
  name: string;
  group?: string;
  version?: string;
  purl?: string;
  scope?: string;
  hashes: { alg: string; content: string }[];
  /** SPDX ids, names or the one expression. */
  licenses: string[];
  /** Where in the document, as a JSON pointer. */
  path: string;
}

export interface ModelCardView {
  componentRef?: string;
  componentName: string;
  task?: string;
  architectureFamily?: string;
  modelArchitecture?: string;
  approach?: string;
  datasets: { ref?: string; name?: string; type?: string }[];
  inputs: string[];
  outputs: string[];
  performanceMetrics: { type?: string; value?: string; slice?: string }[];
  considerations: {
    users: string[];
    useCases: string[];
    technicalLimitations: string[];
    ethicalConsiderations: string[];
  };
}

export interface CycloneDxView {
  specVersion: string;
  serialNumber?: string;
  /** metadata.component, the subject of the BOM, when present. */
  subject?: CycloneDxComponentView;
  /** Every component, nested ones included, in document order. */
  components: CycloneDxComponentView[];
  modelCards: ModelCardView[];
  dependencies: { ref: string; dependsOn: string[] }[];
}

const strOf = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strsOf = (v: unknown): string[] => arr(v).filter((x): x is string => typeof x === 'string');

/** Validates then reads; a BOM that is not valid CycloneDX 1.6 throws SBOM_INVALID listing the paths. */
export function readCycloneDx(json: string | unknown, where = 'CycloneDX document'): CycloneDxView {
  let bom: unknown = json;
  if (typeof json === 'string') {
    try {
      bom = parseJsonBounded(json, (limit) => new ModelshipError('SBOM_INVALID', `${where} nests arrays or objects more than ${limit} deep; no SBOM does: it is malformed or malicious`));
    } catch (err) {
      if (err instanceof ModelshipError) throw err;
      throw new ModelshipError('SBOM_INVALID', `${where} is not JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  const errors = validateCycloneDx(bom);
  if (errors.length) {
    throw new ModelshipError('SBOM_INVALID', `${where} is not valid CycloneDX 1.6:\n${errors.slice(0, 20).map((e) => `  ${e.path}: ${e.message}`).join('\n')}`, { details: { errors } });
  }
  const b = rec(bom);
  const components: CycloneDxComponentView[] = [];
  const modelCards: ModelCardView[] = [];
  const visit = (c: Json, path: string): CycloneDxComponentView => {
    const view = componentView(c, path);
    components.push(view);
    if (c['modelCard']) modelCards.push(modelCardView(c, rec(c['modelCard'])));
    arr(c['components']).forEach((child, i) => visit(rec(child), `${path}/components/${i}`));
    return view;
  };
  const meta = rec(b['metadata']);
  const subject = meta['component'] ? visit(rec(meta['component']), '/metadata/component') : undefined;
  arr(b['components']).forEach((c, i) => visit(rec(c), `/components/${i}`));
  return {
    specVersion: String(b['specVersion']),
    ...(strOf(b['serialNumber']) ? { serialNumber: strOf(b['serialNumber'])! } : {}),
    ...(subject ? { subject } : {}),
    components,
    modelCards,
    dependencies: arr(b['dependencies']).map((d) => ({ ref: String(rec(d)['ref']), dependsOn: strsOf(rec(d)['dependsOn']) })),
  };
}

function componentView(c: Json, path: string): CycloneDxComponentView {
  const licenses = arr(c['licenses']).map((l) => {
    const entry = rec(l);
    if (typeof entry['expression'] === 'string') return entry['expression'];
    const lic = rec(entry['license']);
    return String(lic['id'] ?? lic['name']);
  });
  const view: CycloneDxComponentView = {
    type: String(c['type']),
    name: String(c['name']),
    hashes: arr(c['hashes']).map((h) => ({ alg: String(rec(h)['alg']), content: String(rec(h)['content']) })),
    licenses,
    path,
  };
  for (const key of ['group', 'version', 'purl', 'scope'] as const) if (typeof c[key] === 'string') view[key] = c[key] as string;
  if (typeof c['bom-ref'] === 'string') view.bomRef = c['bom-ref'];
  return view;
}

function modelCardView(c: Json, card: Json): ModelCardView {
  const p = rec(card['modelParameters']);
  const cons = rec(card['considerations']);
  const view: ModelCardView = {
    componentName: String(c['name']),
    datasets: arr(p['datasets']).map((d) => {
      const r = rec(d);
      return { ...(strOf(r['ref']) ? { ref: strOf(r['ref'])! } : {}), ...(strOf(r['name']) ? { name: strOf(r['name'])! } : {}), ...(strOf(r['type']) ? { type: strOf(r['type'])! } : {}) };
    }),
    inputs: arr(p['inputs']).map((x) => String(rec(x)['format'])),
    outputs: arr(p['outputs']).map((x) => String(rec(x)['format'])),
    performanceMetrics: arr(rec(card['quantitativeAnalysis'])['performanceMetrics']).map((m) => {
      const r = rec(m);
      return { ...(strOf(r['type']) ? { type: strOf(r['type'])! } : {}), ...(strOf(r['value']) ? { value: strOf(r['value'])! } : {}), ...(strOf(r['slice']) ? { slice: strOf(r['slice'])! } : {}) };
    }),
    considerations: {
      users: strsOf(cons['users']),
      useCases: strsOf(cons['useCases']),
      technicalLimitations: strsOf(cons['technicalLimitations']),
      ethicalConsiderations: arr(cons['ethicalConsiderations']).map((r) => String(rec(r)['name'] ?? '')),
    },
  };
  if (typeof c['bom-ref'] === 'string') view.componentRef = c['bom-ref'];
  for (const key of ['task', 'architectureFamily', 'modelArchitecture'] as const) if (typeof p[key] === 'string') view[key] = p[key] as string;
  const approach = strOf(rec(p['approach'])['type']);
  if (approach) view.approach = approach;
  return view;
}
