/**
 * A loopback GitHub REST API for pull requests that checks every request (method, path, path and
 * query parameters, JSON body) against GitHub's published description in @octokit/openapi, and
 * answers with the description's own examples, themselves checked against the response schemas.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Ajv, type ValidateFunction } from 'ajv';

type Obj = Record<string, any>;

const require = createRequire(import.meta.url);
const DESCRIPTION_FILE = require.resolve('@octokit/openapi/generated/api.github.com.json');

export interface RecordedCall {
  method: string;
  path: string;
  operationId?: string;
  body?: unknown;
  /** What the description says is wrong with the request; empty when it conforms. */
  violations: string[];
}

export interface FakeGitHub {
  url: string;
  calls: RecordedCall[];
  /** Every violation of every call. */
  violations(): string[];
  pulls: Obj[];
  close(): Promise<void>;
}

let description: Obj | undefined;
const load = (): Obj => (description ??= JSON.parse(readFileSync(DESCRIPTION_FILE, 'utf8')) as Obj);

/** OpenAPI 3.0 → JSON Schema for ajv: nullable becomes a null type; request objects are closed (an unknown field is a client bug). */
function toJsonSchema(node: any, close: boolean): any {
  if (Array.isArray(node)) return node.map((n) => toJsonSchema(n, close));
  if (!node || typeof node !== 'object') return node;
  const out: Obj = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'example' || k === 'examples' || k === 'description') continue;
    out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as Obj).map(([p, s]) => [p, toJsonSchema(s, close)])) : k === 'enum' ? v : toJsonSchema(v, close);
  }
  if (out['$ref']) out['$ref'] = `github${out['$ref']}`;
  if (out['nullable'] === true) {
    delete out['nullable'];
    if (typeof out['type'] === 'string') out['type'] = [out['type'], 'null'];
    else if (out['$ref'] || out['allOf'] || out['anyOf'] || out['oneOf']) return { anyOf: [out, { type: 'null' }] };
  }
  if (close && out['properties'] && out['additionalProperties'] === undefined) out['additionalProperties'] = false;
  return out;
}

function resolveRef(doc: Obj, node: Obj): Obj {
  let n = node;
  while (n?.['$ref']) n = (n['$ref'] as string).slice(2).split('/').reduce((o: Obj, k) => o[k.replace(/~1/g, '/')], doc);
  return n;
}

let ajv: Ajv | undefined;
function compiler(doc: Obj): Ajv {
  if (ajv) return ajv;
  ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  ajv.addSchema({ components: toJsonSchema({ schemas: doc['components']['schemas'] }, false) }, 'github');
  return ajv;
}

function findOperation(doc: Obj, method: string, path: string): { template: string; operation: Obj; params: Record<string, string> } | undefined {
  for (const [template, item] of Object.entries(doc['paths'] as Obj)) {
    const names: string[] = [];
    const pattern = new RegExp(`^${template.replace(/\{([^}]+)\}/g, (_m, name: string) => (names.push(name), '([^/]+)'))}$`);
    const m = pattern.exec(path);
    const operation = (item as Obj)[method.toLowerCase()];
    if (m && operation) return { template, operation, params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)])) };
  }
  return undefined;
}

function check(validator: ValidateFunction, value: unknown, where: string): string[] {
  return validator(value) ? [] : (validator.errors ?? []).map((e) => `${where}${e.instancePath}: ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params['additionalProperty'])})` : ''}`);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Examples from the description, as GitHub documents the answers. */
function example(doc: Obj, operation: Obj, status: string): { status: number; body: any; schema: Obj | undefined } {
  const content = resolveRef(doc, operation['responses'][status])?.['content']?.['application/json'];
  const ex = content?.['examples'] ? resolveRef(doc, Object.values(content['examples'] as Obj)[0] as Obj)['value'] : undefined;
  const body = structuredClone(ex);
  // GitHub's pull-request example lists a team without the fields its own schema requires; a new pull request has no reviewers yet.
  if (body && typeof body === 'object' && 'requested_teams' in body) Object.assign(body, { requested_teams: [], requested_reviewers: [] });
  return { status: Number(status), body, schema: content?.['schema'] };
}

export async function startFakeGitHub(opts: { token: string }): Promise<FakeGitHub> {
  const doc = load();
  const validate = compiler(doc);
  const calls: RecordedCall[] = [];
  const pulls: Obj[] = [];
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const text = await readBody(req);
    const call: RecordedCall = { method: req.method ?? 'GET', path: url.pathname, violations: [] };
    calls.push(call);
    const reply = (status: number, body: unknown, schema?: Obj) => {
      if (schema) call.violations.push(...check(validate.compile(toJsonSchema(schema, false)), body, `response ${status}`));
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
    };
    const found = findOperation(doc, call.method, url.pathname);
    if (!found) {
      call.violations.push(`${call.method} ${url.pathname} is not in GitHub's REST description`);
      return reply(404, { message: 'Not Found' });
    }
    call.operationId = found.operation['operationId'];
    if (req.headers.authorization !== `token ${opts.token}` && req.headers.authorization !== `Bearer ${opts.token}`) return reply(401, { message: 'Bad credentials' });
    for (const p of (found.operation['parameters'] ?? []).map((x: Obj) => resolveRef(doc, x))) {
      const raw = p['in'] === 'path' ? found.params[p['name']] : p['in'] === 'query' ? url.searchParams.get(p['name']) ?? undefined : undefined;
      if (raw === undefined) {
        if (p['required'] && p['in'] !== 'header') call.violations.push(`${p['in']} parameter ${p['name']} is required`);
        continue;
      }
      const value = p['schema']?.['type'] === 'integer' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
      call.violations.push(...check(validate.compile(toJsonSchema(p['schema'], false)), value, `${p['in']} parameter ${p['name']}`));
    }
    const bodySpec = found.operation['requestBody'] ? resolveRef(doc, found.operation['requestBody']) : undefined;
    if (text) {
      try {
        call.body = JSON.parse(text);
      } catch {
        call.violations.push('the body is not JSON');
      }
      const schema = bodySpec?.['content']?.['application/json']?.['schema'];
      if (!schema) call.violations.push(`${call.operationId} takes no JSON body`);
      else call.violations.push(...check(validate.compile(toJsonSchema(schema, true)), call.body, 'body'));
    } else if (bodySpec?.['required']) call.violations.push(`${call.operationId} requires a body`);
    if (call.violations.length) return reply(422, { message: 'Validation Failed', errors: call.violations });

    const [owner, repo] = [found.params['owner'], found.params['repo']];
    switch (call.operationId) {
      case 'pulls/list': {
        const r = example(doc, found.operation, '200');
        const head = url.searchParams.get('head');
        return reply(200, pulls.filter((p) => p['state'] === 'open' && (!head || `${owner}:${p['head']['ref']}` === head)), r.schema);
      }
      case 'pulls/create': {
        const r = example(doc, found.operation, '201');
        const body = call.body as Obj;
        const number = pulls.length + 1;
        Object.assign(r.body, { number, title: body['title'], body: body['body'], state: 'open', html_url: `https://github.com/${owner}/${repo}/pull/${number}` });
        r.body.head.ref = body['head'];
        r.body.base.ref = body['base'];
        pulls.push(r.body);
        return reply(201, r.body, r.schema);
      }
      case 'pulls/update': {
        const r = example(doc, found.operation, '200');
        const pr = pulls.find((p) => p['number'] === Number(found.params['pull_number']));
        if (!pr) return reply(404, { message: 'Not Found' });
        Object.assign(pr, call.body as Obj);
        return reply(200, { ...r.body, ...pr }, r.schema);
      }
      default:
        call.violations.push(`${call.operationId} is not served by this fake`);
        return reply(501, { message: 'Not implemented here' });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    pulls,
    violations: () => calls.flatMap((c) => c.violations.map((v) => `${c.method} ${c.path}: ${v}`)),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
