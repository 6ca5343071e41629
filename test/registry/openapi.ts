/**
 * Checks requests and responses against the Kubeflow Model Registry's published OpenAPI document
 * (test/vectors/model-registry). Its `oneOf` + `discriminator` schemas are rewritten first as
 * if/then on the discriminator value: the variants do not exclude each other, so plain `oneOf`
 * rejects valid bodies, and ajv's own discriminator support refuses `mapping`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Plugin } from 'ajv';
import { parse } from 'yaml';

const addFormats = ((addFormatsModule as unknown as { default?: Plugin<unknown> }).default ?? addFormatsModule) as unknown as Plugin<unknown>;

export const SPEC_PATH = join(import.meta.dirname, '..', 'vectors', 'model-registry', 'model-registry.openapi.yaml');

type Json = Record<string, any>;

export function loadSpec(): Json {
  return parse(readFileSync(SPEC_PATH, 'utf8')) as Json;
}

/** Replace every oneOf + discriminator by: the property is one of the mapped values, and each value selects its schema. */
export function rewriteDiscriminators(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteDiscriminators);
  if (typeof node !== 'object' || node === null) return node;
  const obj = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, rewriteDiscriminators(v)])) as Json;
  if (!obj['discriminator'] || !obj['oneOf']) return obj;
  const { discriminator, oneOf: _oneOf, ...rest } = obj;
  const property = discriminator.propertyName as string;
  const mapping = discriminator.mapping as Record<string, string>;
  return {
    ...rest,
    type: 'object',
    required: [property],
    properties: { [property]: { type: 'string', enum: Object.keys(mapping) } },
    allOf: Object.entries(mapping).map(([value, ref]) => ({ if: { properties: { [property]: { const: value } } }, then: { $ref: ref } })),
  };
}

export function specAjv(doc: Json): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true, logger: false });
  addFormats(ajv);
  ajv.addFormat('int64', { type: 'string', validate: (s: string) => /^-?[0-9]+$/.test(s) });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
  ajv.addFormat('double', { type: 'number', validate: () => true });
  ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
  ajv.addSchema({ ...doc, $id: 'model-registry.json' });
  return ajv;
}

export interface Exchange {
  method: string;
  /** Path and query. */
  url: string;
  requestBody?: unknown;
  status: number;
  responseBody: unknown;
}

interface Operation {
  template: string;
  pattern: RegExp;
  op: Json;
  pathParameters: Json[];
}

/** Validates each exchange: path and method exist, query parameters, request body, status and response body. */
export class SpecChecker {
  private readonly ajv: Ajv;
  private readonly operations: Operation[] = [];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly doc: Json = rewriteDiscriminators(loadSpec()) as Json) {
    this.ajv = specAjv(doc);
    for (const [template, item] of Object.entries(doc['paths'] as Json)) {
      const pattern = new RegExp('^' + template.replace(/\{[^}]+\}/g, '[^/]+') + '$');
      for (const method of ['get', 'post', 'patch', 'put', 'delete']) {
        if (item[method]) this.operations.push({ template: `${method.toUpperCase()} ${template}`, pattern, op: item[method], pathParameters: item.parameters ?? [] });
      }
    }
  }

  /** Problems found, each naming the exchange; empty when it conforms. */
  check(ex: Exchange, opts: { request?: boolean } = {}): string[] {
    const url = new URL(ex.url, 'http://x');
    const where = `${ex.method} ${ex.url} -> ${ex.status}`;
    const operation = this.operations.find((o) => o.template.startsWith(`${ex.method} `) && o.pattern.test(url.pathname));
    if (!operation) return [`${where}: no such operation in the spec`];
    const problems: string[] = [];
    if (opts.request !== false) problems.push(...this.checkRequest(ex, operation, where, url));
    const response = operation.op.responses?.[String(ex.status)];
    if (!response) {
      // Not every operation lists every error status (e.g. 400 on lists, 404 on a create naming a missing parent);
      // every error the spec documents carries the Error schema, so an undocumented error must too.
      if (ex.status >= 400 && ex.status < 500) return [...problems, ...this.validate({ $ref: '#/components/schemas/Error' }, ex.responseBody, `${where} error`)];
      return [...problems, `${where}: status ${ex.status} is not a documented response`];
    }
    const schema = this.deref(response).content?.['application/json']?.schema;
    if (schema) problems.push(...this.validate(schema, ex.responseBody, `${where} response`));
    return problems;
  }

  private checkRequest(ex: Exchange, operation: Operation, where: string, url: URL): string[] {
    const problems: string[] = [];
    const parameters = [...operation.pathParameters, ...(operation.op.parameters ?? [])].map((p: Json) => this.deref(p));
    for (const [name, value] of url.searchParams) {
      const param = parameters.find((p) => p.in === 'query' && p.name === name);
      if (!param) problems.push(`${where}: query parameter ${name} is not in the spec`);
      else problems.push(...this.validate(param.schema, value, `${where} query ${name}`));
    }
    if (ex.requestBody !== undefined) {
      const schema = operation.op.requestBody?.content?.['application/json']?.schema;
      if (!schema) problems.push(`${where}: the operation takes no JSON body`);
      else problems.push(...this.validate(schema, ex.requestBody, `${where} request`));
    } else if (operation.op.requestBody?.required) problems.push(`${where}: the body is required`);
    return problems;
  }

  /** Validate one value against a schema of the document (for direct tests of the rewrite). */
  validate(schema: Json, value: unknown, where: string): string[] {
    const key = JSON.stringify(schema);
    let fn = this.compiled.get(key);
    if (!fn) {
      fn = this.ajv.compile(this.rebase(schema));
      this.compiled.set(key, fn);
    }
    if (fn(value)) return [];
    return (fn.errors ?? []).map((e) => `${where}: ${e.instancePath || '/'} ${e.message}`);
  }

  private deref(node: Json): Json {
    let current = node;
    while (current && typeof current['$ref'] === 'string') {
      current = (current['$ref'] as string).slice(2).split('/').reduce((n: Json, k) => n[k], this.doc);
    }
    return current;
  }

  /** Local refs in a schema taken out of the document point back into it. */
  private rebase(schema: Json): Json {
    return JSON.parse(JSON.stringify(schema).replaceAll('"#/', '"model-registry.json#/')) as Json;
  }
}
