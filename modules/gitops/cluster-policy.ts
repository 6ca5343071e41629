/**
 * The admission policy the cluster enforces, read back from the GitOps repository the hand-off
 * wrote (or from one policy file): which images it checks, whose signature it demands, in which
 * form, and the minimum MOF class the hand-off recorded. Fails closed: a policy field this reader
 * does not interpret refuses the whole policy, naming the file and field.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { z } from 'zod';
import { ModelshipError } from '../errors/index.js';
import { parseYamlDocuments } from '../project/yaml-source.js';
import { escapeRegExp } from '../text/regexp.js';
import type { SignatureForm } from './artifact-facts.js';

/** Annotation on the admission policy: the MOF class the hand-off's gate required (1 most open). */
export const MOF_MINIMUM_ANNOTATION = 'modelship.dev/mof-minimum-class';

export type ClusterController = 'kyverno' | 'policy-controller';

/** One identity a signature may verify against; `path` says where the policy names it. */
export type ClusterSigner =
  | { kind: 'key'; publicKeyPem: string; path: string }
  | { kind: 'keyless'; issuer: string; subjectRegExp: string; path: string };

/** `required` of `signers` must verify (Kyverno attestor set `count`; policy-controller: any authority, 1). */
export interface ClusterSignerSet {
  required: number;
  signers: ClusterSigner[];
}

/** One image-verification rule: a Kyverno `verifyImages` entry, or a whole ClusterImagePolicy. */
export interface ClusterPolicyRule {
  controller: ClusterController;
  /** metadata.name of the policy object. */
  policy: string;
  /** Kyverno rule name; a ClusterImagePolicy has none. */
  rule?: string;
  source: { file: string; kind: 'ClusterPolicy' | 'ClusterImagePolicy'; field: string; env?: string };
  /** Patterns as written: Kyverno wildcards or policy-controller globs. */
  images: string[];
  /** The signature the controller reads: Kyverno `type: SigstoreBundle` the bundle, else cosign's `.sig`. */
  form: SignatureForm;
  kyvernoType?: 'Cosign' | 'SigstoreBundle';
  /** Every set must pass. */
  signerSets: ClusterSignerSet[];
  /** From MOF_MINIMUM_ANNOTATION, when the hand-off gated on a class. */
  mofMinimum?: 1 | 2 | 3;
}

export interface ClusterPolicySet {
  /** The folder or file given. */
  source: string;
  env?: string;
  rules: ClusterPolicyRule[];
}

export interface LoadClusterPolicyOptions {
  /** The environment folder (`policy/<env>/`) to read in a GitOps repository that holds several. */
  env?: string;
}

const refuse = (message: string, details?: Record<string, unknown>) => new ModelshipError('POLICY_INVALID', message, details ? { details } : {});

export async function loadClusterPolicy(pathOrDir: string, opts: LoadClusterPolicyOptions = {}): Promise<ClusterPolicySet> {
  const info = await stat(pathOrDir).catch(() => undefined);
  if (!info) throw new ModelshipError('POLICY_NOT_FOUND', `no file or folder at ${pathOrDir}: give the GitOps repository's folder (a clone) or a policy YAML file`);
  if (info.isFile()) {
    const rules = await readPolicyFile(pathOrDir, pathOrDir, true);
    if (opts.env !== undefined) rules.forEach((r) => { if (r.source.env === undefined) r.source.env = opts.env; });
    return { source: pathOrDir, ...(opts.env ? { env: opts.env } : {}), rules };
  }
  if (await isBareRepository(pathOrDir)) {
    throw new ModelshipError('POLICY_NOT_FOUND', `${pathOrDir} is a bare git repository (no files to read): clone it ("git clone ${pathOrDir} gitops") and pass the clone's folder to --policy`);
  }
  const files = await yamlFiles(pathOrDir);
  const all: ClusterPolicyRule[] = [];
  for (const file of files) all.push(...(await readPolicyFile(file, relative(pathOrDir, file).split(sep).join('/'), false)));
  const envs = [...new Set(all.map((r) => r.source.env).filter((e): e is string => e !== undefined))].sort();
  if (opts.env === undefined && envs.length > 1) {
    throw new ModelshipError('POLICY_ENV_REQUIRED', `${pathOrDir} holds admission policies for several environments (${envs.join(', ')}): choose one with --env ${envs[0]}`, { details: { envs } });
  }
  if (opts.env !== undefined && envs.length && !envs.includes(opts.env)) {
    throw new ModelshipError('POLICY_NOT_FOUND', `${pathOrDir} holds no admission policy for environment "${opts.env}" (policy/<env>/ folders: ${envs.join(', ')})`, { details: { envs } });
  }
  const rules = opts.env === undefined ? all : all.filter((r) => r.source.env === undefined || r.source.env === opts.env);
  if (!rules.length) {
    throw new ModelshipError('POLICY_NOT_FOUND', `${pathOrDir} holds no Kyverno ClusterPolicy with verifyImages nor policy-controller ClusterImagePolicy: hand off to it first ("modelship handoff"), or give the policy file`);
  }
  const env = opts.env ?? envs[0];
  return { source: pathOrDir, ...(env ? { env } : {}), rules };
}

async function isBareRepository(dir: string): Promise<boolean> {
  const has = (name: string) => stat(join(dir, name)).then(() => true, () => false);
  return (await has('HEAD')) && (await has('objects')) && (await has('refs')) && !(await has('.git'));
}

async function yamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name === '.git' || entry.name === 'node_modules') continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await yamlFiles(full)));
    else if (entry.isFile() && /\.ya?ml$/i.test(entry.name)) out.push(full);
  }
  return out;
}

/** The hand-off writes `<model>/policy/<env>/<file>` (layout.ts). */
function envOfPath(shown: string): string | undefined {
  return /(?:^|\/)policy\/([^/]+)\/[^/]+$/.exec(shown)?.[1];
}

const KYVERNO_GROUP = /^kyverno\.io\//;
const KYVERNO_IMAGE_KINDS = /^policies\.kyverno\.io\//;
const SIGSTORE_GROUP = /^policy\.sigstore\.dev\//;

async function readPolicyFile(file: string, shown: string, single: boolean): Promise<ClusterPolicyRule[]> {
  const text = await readFile(file, 'utf8');
  const mentionsPolicy = /kyverno\.io|policy\.sigstore\.dev/.test(text);
  if (!single && !mentionsPolicy) return [];
  const values = parseYamlDocuments(text, (line, message) => refuse(`${shown}${line ? `:${line}` : ''}: not valid YAML: ${message}`));
  const rules: ClusterPolicyRule[] = [];
  let policies = 0;
  for (const obj of values) {
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) continue;
    const { apiVersion, kind } = obj as { apiVersion?: unknown; kind?: unknown };
    if (typeof apiVersion !== 'string') continue;
    const where = { file: shown, ...(envOfPath(shown) ? { env: envOfPath(shown)! } : {}) };
    if (KYVERNO_GROUP.test(apiVersion) && kind === 'ClusterPolicy') {
      const read = kyvernoRules(obj, where);
      if (read.length) policies++;
      rules.push(...read);
    } else if (SIGSTORE_GROUP.test(apiVersion) && kind === 'ClusterImagePolicy') {
      policies++;
      rules.push(clusterImagePolicyRule(obj, where));
    } else if (KYVERNO_IMAGE_KINDS.test(apiVersion) || (KYVERNO_GROUP.test(apiVersion) && kind === 'Policy')) {
      // A policy the cluster would apply but this reader does not interpret: it cannot say what the cluster decides.
      throw refuse(`${shown}: ${String(kind)} ${apiVersion} is not read by modelship (it reads kyverno.io ClusterPolicy verifyImages and policy.sigstore.dev ClusterImagePolicy); the cluster's verdict on it cannot be checked here`);
    }
  }
  if (single && policies === 0) {
    throw refuse(`${shown} holds no Kyverno ClusterPolicy with a verifyImages rule nor a policy-controller ClusterImagePolicy`);
  }
  return rules;
}

// ---- Kyverno ClusterPolicy (kyverno.io/v1 api/kyverno/v1/image_verification_types.go, v1.19.0)

const rekorOrCtlog = z.object({ url: z.string().optional(), ignoreTlog: z.boolean().optional(), ignoreSCT: z.boolean().optional(), pubkey: z.string().optional() }).strict();

const kyvernoKeys = z.object({
  publicKeys: z.string(),
  signatureAlgorithm: z.literal('sha256').optional(),
  rekor: rekorOrCtlog.optional(),
  ctlog: rekorOrCtlog.optional(),
}).strict();

const kyvernoKeyless = z.object({
  issuer: z.string().optional(),
  issuerRegExp: z.string().optional(),
  subject: z.string().optional(),
  subjectRegExp: z.string().optional(),
  rekor: rekorOrCtlog.optional(),
  ctlog: rekorOrCtlog.optional(),
}).strict();

const kyvernoAttestorSet = z.object({
  count: z.number().int().min(0).optional(),
  entries: z.array(z.object({ keys: kyvernoKeys.optional(), keyless: kyvernoKeyless.optional() }).strict()).min(1),
}).strict();

const kyvernoVerifyImage = z.object({
  imageReferences: z.array(z.string()).min(1),
  type: z.enum(['Cosign', 'SigstoreBundle']).optional(),
  failureAction: z.enum(['Enforce', 'Audit']).optional(),
  required: z.boolean().optional(),
  verifyDigest: z.boolean().optional(),
  mutateDigest: z.boolean().optional(),
  useCache: z.boolean().optional(),
  attestors: z.array(kyvernoAttestorSet).min(1),
}).strict();

const kyvernoPolicy = z.object({
  metadata: z.object({ name: z.string().min(1), annotations: z.record(z.string(), z.string()).optional() }).passthrough(),
  spec: z.object({
    validationFailureAction: z.string().optional(),
    rules: z.array(z.object({ name: z.string().min(1), verifyImages: z.array(z.unknown()).optional() }).passthrough()).min(1),
  }).passthrough(),
}).passthrough();

function kyvernoRules(obj: object, where: { file: string; env?: string }): ClusterPolicyRule[] {
  const at = `${where.file} (ClusterPolicy ${nameOf(obj)})`;
  const p = parseOrRefuse(kyvernoPolicy, obj, at, 'ClusterPolicy', '');
  const mofMinimum = mofMinimumOf(p.metadata.annotations, at);
  const out: ClusterPolicyRule[] = [];
  p.spec.rules.forEach((rule, r) => {
    (rule.verifyImages ?? []).forEach((raw, v) => {
      const field = `spec.rules[${r}].verifyImages[${v}]`;
      const vi = parseOrRefuse(kyvernoVerifyImage, raw, at, 'verifyImages entry', field);
      const action = vi.failureAction ?? p.spec.validationFailureAction;
      if (!action || !/^enforce$/i.test(action)) {
        throw refuse(`${at}: ${field}.failureAction is ${action ?? 'not set (Kyverno defaults to Audit)'}: the cluster admits what fails an Audit rule, so it gates nothing; modelship reads only Enforce rules`);
      }
      const type = vi.type ?? 'Cosign';
      out.push({
        controller: 'kyverno', policy: p.metadata.name, rule: rule.name,
        source: { ...where, kind: 'ClusterPolicy', field },
        images: vi.imageReferences,
        form: type === 'SigstoreBundle' ? 'sigstore-bundle' : 'simple-signing',
        kyvernoType: type,
        signerSets: vi.attestors.map((set, a) => ({
          // api/kyverno/v1 AttestorSet.RequiredCount: no count (or 0) means every entry.
          required: set.count ? set.count : set.entries.length,
          signers: set.entries.map((e, n) => kyvernoSigner(e, `.attestors[${a}].entries[${n}]`, `${at}: ${field}.attestors[${a}].entries[${n}]`)),
        })),
        ...(mofMinimum ? { mofMinimum } : {}),
      });
    });
  });
  return out;
}

function kyvernoSigner(e: z.infer<typeof kyvernoAttestorSet>['entries'][number], path: string, at: string): ClusterSigner {
  if (e.keys && e.keyless) throw refuse(`${at}: names both keys and keyless; give one per entry`);
  if (e.keys) {
    const pems = publicKeyPems(e.keys.publicKeys);
    if (pems.length !== 1) throw refuse(`${at}.keys.publicKeys holds ${pems.length} PEM public keys: modelship reads one key per entry (give each key its own entry)`);
    // v1.19.0 pkg/engine/internal/imageverifier.go buildCosignVerifier: without rekor.ignoreTlog the key signature must be in Rekor.
    if (e.keys.rekor?.ignoreTlog !== true) throw refuse(`${at}.keys: without rekor.ignoreTlog: true Kyverno demands a Rekor transparency-log entry for the key signature, which modelship does not check; the hand-off writes ignoreTlog: true for keys`);
    return { kind: 'key', publicKeyPem: pems[0]!, path: `${path}.keys` };
  }
  if (e.keyless) {
    const k = e.keyless;
    const issuer = k.issuer ?? literalOfAnchored(k.issuerRegExp, `${at}.keyless.issuerRegExp`);
    if (!issuer) throw refuse(`${at}.keyless: names no issuer`);
    const subject = k.subjectRegExp ?? (k.subject !== undefined ? `^${escapeRegExp(k.subject)}$` : undefined);
    if (!subject) throw refuse(`${at}.keyless: names no subject or subjectRegExp`);
    return { kind: 'keyless', issuer, subjectRegExp: checkedRegExp(subject, `${at}.keyless.subjectRegExp`), path: `${path}.keyless` };
  }
  throw refuse(`${at}: names neither keys nor keyless (modelship does not read certificates or nested attestors)`);
}

// ---- policy-controller ClusterImagePolicy (policy.sigstore.dev/v1beta1, pkg/apis/policy/v1beta1, v0.15.1)

const pcAuthority = z.object({
  name: z.string().optional(),
  key: z.object({ data: z.string(), hashAlgorithm: z.literal('sha256').optional() }).strict().optional(),
  keyless: z.object({
    url: z.string().optional(),
    identities: z.array(z.object({ issuer: z.string().optional(), issuerRegExp: z.string().optional(), subject: z.string().optional(), subjectRegExp: z.string().optional() }).strict()).min(1),
  }).strict().optional(),
  ctlog: rekorOrCtlog.optional(),
}).strict();

const clusterImagePolicy = z.object({
  metadata: z.object({ name: z.string().min(1), annotations: z.record(z.string(), z.string()).optional() }).passthrough(),
  spec: z.object({
    images: z.array(z.object({ glob: z.string() }).strict()).min(1),
    authorities: z.array(pcAuthority).min(1),
    mode: z.enum(['enforce', 'warn']).optional(),
  }).strict(),
}).passthrough();

function clusterImagePolicyRule(obj: object, where: { file: string; env?: string }): ClusterPolicyRule {
  const at = `${where.file} (ClusterImagePolicy ${nameOf(obj)})`;
  const p = parseOrRefuse(clusterImagePolicy, obj, at, 'ClusterImagePolicy', '');
  if (p.spec.mode === 'warn') throw refuse(`${at}: spec.mode is warn: the cluster admits what fails it, so it gates nothing; modelship reads only enforcing policies`);
  const signers: ClusterSigner[] = [];
  p.spec.authorities.forEach((a, i) => {
    // pkg/webhook/cip: an authority without a name is called authority-<index>.
    const name = a.name ?? `authority-${i}`;
    const field = `${at}: spec.authorities[${i}]`;
    if (a.key && a.keyless) throw refuse(`${field}: names both key and keyless`);
    if (a.key) {
      const pems = publicKeyPems(a.key.data);
      if (!pems.length) throw refuse(`${field}.key.data holds no PEM public key (modelship does not read kms or secretRef keys)`);
      // v0.15.1 pkg/webhook/validator.go checkOptsFromAuthority: a ctlog (Rekor) on a key authority demands a transparency-log entry.
      if (a.ctlog) throw refuse(`${field}.ctlog: a key authority with a transparency log demands a Rekor entry for the key signature, which modelship does not check`);
      // pkg/webhook/validation.go valid(): any of the authority's keys may match.
      for (const pem of pems) signers.push({ kind: 'key', publicKeyPem: pem, path: name });
    } else if (a.keyless) {
      a.keyless.identities.forEach((id, n) => {
        const issuer = id.issuer ?? literalOfAnchored(id.issuerRegExp, `${field}.keyless.identities[${n}].issuerRegExp`);
        const subject = id.subjectRegExp ?? (id.subject !== undefined ? `^${escapeRegExp(id.subject)}$` : undefined);
        if (!issuer || !subject) throw refuse(`${field}.keyless.identities[${n}]: needs an issuer and a subject (or subjectRegExp)`);
        signers.push({ kind: 'keyless', issuer, subjectRegExp: checkedRegExp(subject, `${field}.keyless.identities[${n}].subjectRegExp`), path: name });
      });
    } else {
      throw refuse(`${field}: names neither key nor keyless (modelship does not read static, source, attestations or rfc3161timestamp authorities)`);
    }
  });
  const mofMinimum = mofMinimumOf(p.metadata.annotations, at);
  return {
    controller: 'policy-controller', policy: p.metadata.name,
    source: { ...where, kind: 'ClusterImagePolicy', field: 'spec' },
    images: p.spec.images.map((i) => i.glob),
    // pkg/webhook/validator.go: a key authority reads cosign's simple signature, never a bundle.
    form: 'simple-signing',
    // pkg/webhook/validator.go ValidatePolicy: the policy passes when any authority does.
    signerSets: [{ required: 1, signers }],
    ...(mofMinimum ? { mofMinimum } : {}),
  };
}

// ---- shared

function nameOf(obj: object): string {
  const name = (obj as { metadata?: { name?: unknown } }).metadata?.name;
  return typeof name === 'string' && name ? name : '(no metadata.name)';
}

function parseOrRefuse<T extends z.ZodType>(schema: T, value: unknown, at: string, what: string, field: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = [field, ...issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))].join('').replace(/^\./, '') || '(top level)';
  const unknownKeys = issue.code === 'unrecognized_keys' ? ` (${(issue as { keys: string[] }).keys.join(', ')}: not read by modelship, so the cluster's verdict cannot be checked)` : '';
  throw refuse(`${at}: ${what} field ${path}: ${issue.message}${unknownKeys}`, { field: path });
}

function mofMinimumOf(annotations: Record<string, string> | undefined, at: string): 1 | 2 | 3 | undefined {
  const raw = annotations?.[MOF_MINIMUM_ANNOTATION];
  if (raw === undefined) return undefined;
  if (raw === '1' || raw === '2' || raw === '3') return Number(raw) as 1 | 2 | 3;
  throw refuse(`${at}: metadata.annotations["${MOF_MINIMUM_ANNOTATION}"] is "${raw}": give 1, 2 or 3 (the MOF class, 1 most open)`);
}

function publicKeyPems(text: string): string[] {
  return text.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g)?.map((p) => p + '\n') ?? [];
}

function checkedRegExp(re: string, at: string): string {
  try {
    new RegExp(re);
  } catch (err) {
    throw refuse(`${at} "${re}" is not a regular expression modelship can read: ${(err as Error).message}`);
  }
  return re;
}

/** `^literal$` with escapes only (what the hand-off writes) back to the literal; any real pattern is refused. */
function literalOfAnchored(re: string | undefined, at: string): string | undefined {
  if (re === undefined) return undefined;
  const m = /^\^((?:\\[.*+?^${}()|[\]\\/]|[^.*+?^${}()|[\]\\])*)\$$/.exec(re);
  if (!m) throw refuse(`${at} "${re}" is a pattern: modelship compares the OIDC issuer exactly, so give issuer (or ^escaped-issuer$)`);
  return m[1]!.replace(/\\(.)/g, '$1');
}

/** Kyverno imageReferences (ext/wildcard, IGLOU-EU/go-wildcard v1.0.3): `*` any run, `?` one character. */
export function kyvernoImageMatches(pattern: string, image: string): boolean {
  const re = pattern.split('').map((c) => (c === '*' ? '[\\s\\S]*' : c === '?' ? '[\\s\\S]' : escapeRegExp(c))).join('');
  return new RegExp(`^${re}$`).test(image);
}

/** policy-controller globs (pkg/apis/glob/glob.go v0.15.1): `*` is `[^/]*`, `**` anything, whole string. */
export function policyControllerImageMatches(glob: string, image: string): boolean {
  const g = glob === '*/*' ? 'index.docker.io/*/*' : glob === '*' ? 'index.docker.io/library/*' : glob;
  if (!/^[a-zA-Z0-9-_:/*.@]+$/.test(g)) return false;
  const re = g.replace(/\./g, '\\.').replace(/\*\*/g, '#').replace(/\*/g, '[^/]*').replace(/#/g, '.*');
  return new RegExp(`^${re}$`).test(image);
}

/** The rules that check IMAGE (HOST/REPO@sha256:…), as each controller matches its patterns. */
export function rulesCovering(policy: ClusterPolicySet, image: string): ClusterPolicyRule[] {
  return policy.rules.filter((r) => r.images.some((p) => (r.controller === 'kyverno' ? kyvernoImageMatches(p, image) : policyControllerImageMatches(p, image))));
}

/** For messages: what the set checks, one pattern list per policy. */
export function describePolicyPatterns(policy: ClusterPolicySet): string {
  return policy.rules.map((r) => `${r.policy} (${r.source.file}): ${r.images.join(', ')}`).join('; ');
}

