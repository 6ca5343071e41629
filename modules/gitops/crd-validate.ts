/**
 * Offline validation of Kubernetes objects against the CRDs' OpenAPI schemas shipped in
 * schemas/crds, with unknown fields rejected as kubeconform -strict does. CEL rules are not checked.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ModelshipError } from '../errors/index.js';
import { schemaFilePath } from '../project/index.js';

export interface ManifestIssue {
  /** The file the object is written to (or its kind/name when not yet written). */
  where: string;
  /** JSON path inside the object, e.g. `/spec/predictor/model/storageUri`. */
  path: string;
  message: string;
}

type Schema = Record<string, unknown>;

/** DNS-1123 label: what KServe requires of an InferenceService name (it becomes a Service and host name). */
export const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** DNS-1123 subdomain: the rule for most object names. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Objects whose name is a DNS label, not just a subdomain. */
const LABEL_NAMED_KINDS = new Set(['InferenceService', 'ServingRuntime']);

const compiled = new Map<string, ValidateFunction>();

/** The shipped schema file for an apiVersion and kind, e.g. serving.kserve.io/InferenceService_v1beta1.json. */
export function crdSchemaFile(apiVersion: string, kind: string): string {
  const slash = apiVersion.indexOf('/');
  if (slash < 0) throw new ModelshipError('GITOPS_MANIFEST_INVALID', `${kind} ${apiVersion}: core Kubernetes kinds have no CRD schema here; modelship writes only custom resources`);
  return `crds/${apiVersion.slice(0, slash)}/${kind}_${apiVersion.slice(slash + 1)}.json`;
}

/** Close every object schema that does not declare extra keys, as kubeconform -strict does. */
export function strictSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [k, v] of Object.entries(node as Schema)) {
    if (k === 'properties' || k === 'patternProperties') out[k] = Object.fromEntries(Object.entries(v as Schema).map(([name, s]) => [name, strictSchema(s)]));
    else if (k === 'enum' || k === 'default' || k === 'example') out[k] = v;
    else out[k] = strictSchema(v);
  }
  const preserve = out['x-kubernetes-preserve-unknown-fields'] === true;
  if (out['properties'] && out['additionalProperties'] === undefined && !preserve) out['additionalProperties'] = false;
  // OpenAPI's nullable: let null through where the schema says so.
  if (out['nullable'] === true && typeof out['type'] === 'string') out['type'] = [out['type'], 'null'];
  return out;
}

/** Subschemas at least this long that occur more than once are compiled once, behind a $ref. */
const SHARED_MIN_LENGTH = 512;

/** Hoist repeated subschemas (KServe repeats the whole PodSpec per component) into $defs: ajv then compiles each once. */
export function shareRepeatedSchemas(root: Schema): Schema {
  const counts = new Map<string, number>();
  const count = (node: unknown): string => {
    if (Array.isArray(node)) return `[${node.map(count).join(',')}]`;
    if (!node || typeof node !== 'object') return JSON.stringify(node);
    const text = `{${Object.entries(node as Schema).map(([k, v]) => `${JSON.stringify(k)}:${count(v)}`).join(',')}}`;
    if (text.length >= SHARED_MIN_LENGTH) counts.set(text, (counts.get(text) ?? 0) + 1);
    return text;
  };
  count(root);
  const defs: Schema = {};
  const names = new Map<string, string>();
  const rewrite = (node: unknown, isSchema: boolean): { node: unknown; text: string } => {
    if (Array.isArray(node)) {
      const parts = node.map((n) => rewrite(n, isSchema));
      return { node: parts.map((p) => p.node), text: `[${parts.map((p) => p.text).join(',')}]` };
    }
    if (!node || typeof node !== 'object') return { node, text: JSON.stringify(node) };
    const out: Schema = {};
    const texts: string[] = [];
    for (const [k, v] of Object.entries(node as Schema)) {
      // Children of properties are schemas; values of enum/default are data and stay as they are.
      const data = k === 'enum' || k === 'default' || k === 'example';
      const r = data ? { node: v, text: canonical(v) } : rewrite(v, k !== 'properties' && k !== 'patternProperties');
      out[k] = r.node;
      texts.push(`${JSON.stringify(k)}:${r.text}`);
    }
    const text = `{${texts.join(',')}}`;
    if (isSchema && (counts.get(text) ?? 0) > 1) {
      let name = names.get(text);
      if (!name) {
        name = `shared${names.size}`;
        names.set(text, name);
        defs[name] = out;
      }
      return { node: { $ref: `#/$defs/${name}` }, text };
    }
    return { node: out, text };
  };
  const rewritten = rewrite(root, false).node as Schema;
  return Object.keys(defs).length ? { ...rewritten, $defs: defs } : rewritten;
}

function canonical(node: unknown): string {
  if (Array.isArray(node)) return `[${node.map(canonical).join(',')}]`;
  if (!node || typeof node !== 'object') return JSON.stringify(node);
  return `{${Object.entries(node as Schema).map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** The API server accepts apiVersion, kind and metadata on every object, declared in the CRD or not. */
function withObjectMeta(root: Schema): Schema {
  const properties = (root['properties'] ?? {}) as Schema;
  return {
    ...root,
    properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, ...properties },
  };
}

function validatorFor(apiVersion: string, kind: string): ValidateFunction {
  const file = crdSchemaFile(apiVersion, kind);
  const cached = compiled.get(file);
  if (cached) return cached;
  let path: string;
  try {
    path = schemaFilePath(file);
  } catch {
    throw new ModelshipError('GITOPS_MANIFEST_INVALID', `no CRD schema for ${kind} ${apiVersion} (schemas/${file}): modelship validates KServe, Flux, Argo CD, Kyverno and policy-controller objects only`);
  }
  const schema = shareRepeatedSchemas(strictSchema(withObjectMeta(JSON.parse(readFileSync(path, 'utf8')) as Schema)) as Schema);
  // Formats such as int64 and byte are OpenAPI's; CRD validation in the API server ignores most of them too.
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  const validate = ajv.compile(schema);
  compiled.set(file, validate);
  return validate;
}

function describe(e: ErrorObject): string {
  if (e.keyword === 'additionalProperties') return `unknown field "${String((e.params as { additionalProperty: string }).additionalProperty)}"`;
  if (e.keyword === 'enum') return `must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`;
  return e.message ?? e.keyword;
}

/** Every problem with one object: its schema, its name and its labels. */
export function validateManifest(object: unknown, where?: string): ManifestIssue[] {
  const o = object as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; labels?: Record<string, unknown> } };
  const at = where ?? `${String(o?.kind)}/${String(o?.metadata?.name)}`;
  if (!o || typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') return [{ where: at, path: '', message: 'not a Kubernetes object: apiVersion and kind are required' }];
  const issues: ManifestIssue[] = [];
  const name = o.metadata?.name;
  const namePattern = LABEL_NAMED_KINDS.has(o.kind) ? DNS_LABEL : DNS_SUBDOMAIN;
  if (typeof name !== 'string' || !namePattern.test(name) || name.length > (LABEL_NAMED_KINDS.has(o.kind) ? 63 : 253)) {
    issues.push({ where: at, path: '/metadata/name', message: `"${String(name)}" is not a valid ${o.kind} name: lower-case letters, digits and "-", starting with a letter${LABEL_NAMED_KINDS.has(o.kind) ? ', at most 63 characters' : ''}` });
  }
  for (const [key, value] of Object.entries(o.metadata?.labels ?? {})) {
    if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) issues.push({ where: at, path: `/metadata/labels/${key}`, message: `label value "${String(value)}" is not valid: at most 63 letters, digits, "-", "_" or "."` });
  }
  const validate = validatorFor(o.apiVersion, o.kind);
  if (!validate(object)) {
    for (const e of validate.errors ?? []) issues.push({ where: at, path: e.instancePath || '/', message: describe(e) });
  }
  return issues;
}

/** Throw GITOPS_MANIFEST_INVALID listing every issue of every object, before anything is written. */
export function assertManifestsValid(objects: { path: string; object: unknown }[]): void {
  const issues = objects.flatMap((o) => validateManifest(o.object, o.path));
  if (!issues.length) return;
  throw new ModelshipError(
    'GITOPS_MANIFEST_INVALID',
    `the manifests do not validate against their CRDs:\n${issues.map((i) => `  ${i.where} ${i.path}: ${i.message}`).join('\n')}`,
    { details: { issues } },
  );
}
