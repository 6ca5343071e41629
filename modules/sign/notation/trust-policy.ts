/**
 * Notation trust policies (specs/trust-store-trust-policy.md): the OCI document (`trustpolicy.json`,
 * statements chosen by registryScopes) and the blob document (`trustpolicy.blob.json`, chosen by name).
 */
import { ModelshipError } from '../../errors/index.js';
import { parseDistinguishedName, isSubsetDn } from './certificates.js';

export type ValidationType = 'integrity' | 'authenticity' | 'authenticTimestamp' | 'expiry' | 'revocation';
export type ValidationAction = 'enforce' | 'log' | 'skip';
export type VerificationLevelName = 'strict' | 'permissive' | 'audit' | 'skip';

export const VALIDATION_TYPES: readonly ValidationType[] = ['integrity', 'authenticity', 'authenticTimestamp', 'expiry', 'revocation'];

/** The specification's table of actions per level. */
const LEVELS: Record<VerificationLevelName, Record<ValidationType, ValidationAction>> = {
  strict: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'enforce', expiry: 'enforce', revocation: 'enforce' },
  permissive: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
  audit: { integrity: 'enforce', authenticity: 'log', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
  skip: { integrity: 'skip', authenticity: 'skip', authenticTimestamp: 'skip', expiry: 'skip', revocation: 'skip' },
};

export interface TrustPolicyStatement {
  name: string;
  signatureVerification: { level: VerificationLevelName; override?: Partial<Record<ValidationType, ValidationAction>> };
  trustStores: string[];
  trustedIdentities: string[];
}

export interface OciTrustPolicyStatement extends TrustPolicyStatement {
  registryScopes: string[];
}

export interface BlobTrustPolicyStatement extends TrustPolicyStatement {
  globalPolicy?: boolean;
}

export type TrustPolicyDocument =
  | { kind: 'oci'; version: '1.0'; trustPolicies: OciTrustPolicyStatement[] }
  | { kind: 'blob'; version: '1.0'; trustPolicies: BlobTrustPolicyStatement[] };

const TRUST_STORE_TYPES = ['ca', 'signingAuthority', 'tsa'];
const DOMAIN = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?$/;
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*)*$/;

function invalid(where: string, message: string): never {
  throw new ModelshipError('NOTATION_POLICY_INVALID', `${where}: ${message}`);
}

/** Each check action for a statement: its level's table with `override` applied. */
export function enforcementOf(statement: TrustPolicyStatement): Record<ValidationType, ValidationAction> {
  return { ...LEVELS[statement.signatureVerification.level], ...statement.signatureVerification.override };
}

function checkStringArray(value: unknown, field: string, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) invalid(where, `${field} must be an array of strings`);
  return value as string[];
}

function checkStatement(raw: unknown, index: number, where: string): TrustPolicyStatement & Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null) invalid(where, `trustPolicies[${index}] must be an object`);
  const s = raw as Record<string, unknown>;
  if (typeof s.name !== 'string' || s.name === '') invalid(where, `trustPolicies[${index}] needs a name`);
  const at = `${where}: statement "${s.name}"`;
  const sv = s.signatureVerification as Record<string, unknown> | undefined;
  if (typeof sv !== 'object' || sv === null) invalid(at, 'signatureVerification is required');
  const level = sv.level;
  if (typeof level !== 'string' || !(level in LEVELS)) invalid(at, `signatureVerification.level ${JSON.stringify(level)} must be strict, permissive, audit or skip`);
  const override = sv.override as Record<string, unknown> | undefined;
  if (override !== undefined) {
    if (typeof override !== 'object' || override === null) invalid(at, 'signatureVerification.override must be a map');
    if (level === 'skip' && Object.keys(override).length) invalid(at, 'level skip cannot be customised with override');
    for (const [type, action] of Object.entries(override)) {
      if (!VALIDATION_TYPES.includes(type as ValidationType)) invalid(at, `override key ${type} is not one of ${VALIDATION_TYPES.join(', ')}`);
      if (type === 'integrity') invalid(at, 'integrity cannot be overridden');
      if (action !== 'enforce' && action !== 'log' && action !== 'skip') invalid(at, `override ${type}: ${JSON.stringify(action)} must be enforce, log or skip`);
      if (action === 'skip' && type !== 'revocation') invalid(at, `override ${type} cannot be skip; only revocation can be skipped`);
    }
  }
  const trustStores = checkStringArray(s.trustStores, 'trustStores', at);
  const trustedIdentities = checkStringArray(s.trustedIdentities, 'trustedIdentities', at);
  if (level === 'skip') {
    if (trustStores.length || trustedIdentities.length) invalid(at, 'level skip must not list trustStores or trustedIdentities');
  } else {
    if (!trustStores.length || !trustedIdentities.length) invalid(at, 'trustStores and trustedIdentities are both required unless the level is skip');
    for (const store of trustStores) {
      const [type, name, ...rest] = store.split(':');
      if (rest.length || !type || !name) invalid(at, `trust store "${store}" must be <type>:<name>, e.g. ca:acme-rockets`);
      if (!TRUST_STORE_TYPES.includes(type)) invalid(at, `trust store "${store}" has type ${type}; use ca, signingAuthority or tsa`);
      if (!/^[a-zA-Z0-9_.-]+$/.test(name)) invalid(at, `trust store name "${name}" must match [a-zA-Z0-9_.-]+`);
    }
    if (trustedIdentities.length > 1 && trustedIdentities.includes('*')) invalid(at, "the wildcard identity '*' cannot be combined with other identities");
    const dns = trustedIdentities.filter((t) => t !== '*').map((identity) => {
      const colon = identity.indexOf(':');
      if (colon < 0) invalid(at, `trusted identity "${identity}" has no "<type>:" prefix; use "x509.subject: C=.., ST=.., O=.."`);
      if (identity.slice(0, colon) !== 'x509.subject') invalid(at, `trusted identity "${identity}" has type ${identity.slice(0, colon)}; only x509.subject is supported`);
      return { identity, dn: parseDistinguishedName(identity.slice(colon + 1), at) };
    });
    for (const a of dns) for (const b of dns) if (a !== b && isSubsetDn(a.dn, b.dn)) invalid(at, `trusted identities "${a.identity}" and "${b.identity}" overlap`);
  }
  return {
    ...s,
    name: s.name,
    signatureVerification: { level: level as VerificationLevelName, ...(override ? { override: override as TrustPolicyStatement['signatureVerification']['override'] } : {}) },
    trustStores,
    trustedIdentities,
  };
}

function checkRegistryScope(scope: string, at: string): void {
  if (scope.includes('*')) invalid(at, `registry scope "${scope}" has a wildcard; use "*" alone or a full repository such as registry.example/team/model`);
  const slash = scope.indexOf('/');
  if (slash <= 0 || !DOMAIN.test(scope.slice(0, slash)) || !REPOSITORY.test(scope.slice(slash + 1))) {
    invalid(at, `registry scope "${scope}" is not a fully qualified repository (registry/namespace/repository, no tag or digest)`);
  }
}

/** Parse and validate a trust policy document (JSON text or parsed); blob documents (statements without registryScopes) are recognised as such. */
export function parseTrustPolicy(input: unknown, where = 'trust policy'): TrustPolicyDocument {
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch (err) {
      throw new ModelshipError('NOTATION_POLICY_INVALID', `${where} is not JSON`, { cause: err });
    }
  }
  if (typeof raw !== 'object' || raw === null) invalid(where, 'must be a JSON object with version and trustPolicies');
  const doc = raw as Record<string, unknown>;
  if (doc.version !== '1.0') invalid(where, `version must be "1.0", got ${JSON.stringify(doc.version)}`);
  if (!Array.isArray(doc.trustPolicies) || doc.trustPolicies.length === 0) invalid(where, 'trustPolicies must list at least one statement');
  const statements = doc.trustPolicies.map((s, i) => checkStatement(s, i, where));
  const names = new Set<string>();
  for (const s of statements) {
    if (names.has(s.name)) invalid(where, `statement name "${s.name}" is used twice; names must be unique`);
    names.add(s.name);
  }
  const withScopes = statements.filter((s) => s.registryScopes !== undefined);
  if (withScopes.length === 0) {
    const globals = statements.filter((s) => s.globalPolicy === true);
    if (globals.length > 1) invalid(where, 'more than one blob statement sets globalPolicy: true');
    return {
      kind: 'blob',
      version: '1.0',
      trustPolicies: statements.map(({ name, signatureVerification, trustStores, trustedIdentities, globalPolicy }) => ({
        name,
        signatureVerification,
        trustStores,
        trustedIdentities,
        ...(globalPolicy === true ? { globalPolicy: true } : {}),
      })),
    };
  }
  const scopeOwner = new Map<string, string>();
  const trustPolicies = statements.map((s) => {
    const at = `${where}: statement "${s.name}"`;
    if (s.globalPolicy !== undefined) invalid(at, 'globalPolicy belongs to blob trust policies (trustpolicy.blob.json), not OCI ones');
    const scopes = checkStringArray(s.registryScopes, 'registryScopes', at);
    if (scopes.length === 0) invalid(at, 'registryScopes must list at least one repository or "*"');
    if (scopes.length > 1 && scopes.includes('*')) invalid(at, 'the global scope "*" cannot be combined with other scopes');
    for (const scope of scopes) {
      if (scope !== '*') checkRegistryScope(scope, at);
      if (scope === '*' && s.signatureVerification.level === 'skip') invalid(at, 'level skip cannot use the global scope "*"; list the repositories to skip');
      const owner = scopeOwner.get(scope);
      if (owner) invalid(where, `registry scope "${scope}" appears in statements "${owner}" and "${s.name}"; a scope may belong to one statement`);
      scopeOwner.set(scope, s.name);
    }
    const { name, signatureVerification, trustStores, trustedIdentities } = s;
    return { name, registryScopes: scopes, signatureVerification, trustStores, trustedIdentities };
  });
  return { kind: 'oci', version: '1.0', trustPolicies };
}

/** `registry/repo@sha256:...` -> `registry/repo`, the form registry scopes name. */
export function repositoryOfReference(artifactReference: string): string {
  const at = artifactReference.lastIndexOf('@');
  if (at < 0) {
    throw new ModelshipError('NOTATION_REFERENCE_INVALID', `artifact reference "${artifactReference}" must name a digest (registry/repository@sha256:...), as trust policies apply to digests`);
  }
  const repository = artifactReference.slice(0, at);
  try {
    checkRegistryScope(repository, 'artifact reference');
  } catch {
    throw new ModelshipError('NOTATION_REFERENCE_INVALID', `artifact reference "${artifactReference}" is not fully qualified: write registry/namespace/repository@sha256:...`);
  }
  return repository;
}

/** The statement that applies to a reference: exact scope first, then the global "*". */
export function applicableTrustPolicy(doc: TrustPolicyDocument, artifactReference: string): OciTrustPolicyStatement {
  if (doc.kind === 'blob') {
    throw new ModelshipError(
      'NOTATION_POLICY_KIND',
      'this is a blob trust policy (trustpolicy.blob.json, for `notation blob sign` signatures on files); registry artifacts need an OCI trust policy whose statements have registryScopes',
    );
  }
  const repository = repositoryOfReference(artifactReference);
  const exact = doc.trustPolicies.find((s) => s.registryScopes.includes(repository));
  const global = doc.trustPolicies.find((s) => s.registryScopes.includes('*'));
  const chosen = exact ?? global;
  if (!chosen) {
    throw new ModelshipError('NOTATION_NO_POLICY', `no trust policy statement applies to ${repository}: add it to a statement's registryScopes or add a statement with registryScopes ["*"]`);
  }
  return chosen;
}
