import { describe, expect, it } from 'vitest';
import { applicableTrustPolicy, enforcementOf, parseTrustPolicy, repositoryOfReference } from '../../../modules/sign/notation/index.js';

const digest = 'sha256:' + 'b'.repeat(64);

// The second example document of specs/trust-store-trust-policy.md.
const specExample = {
  version: '1.0',
  trustPolicies: [
    {
      name: 'wabbit-networks-images',
      registryScopes: ['registry.acme-rockets.io/software/net-monitor', 'registry.acme-rockets.io/software/net-logger'],
      signatureVerification: { level: 'strict' },
      trustStores: ['ca:wabbit-networks'],
      trustedIdentities: ['x509.subject: C=US, ST=WA, L=Seattle, O=wabbit-networks.io, OU=Security Tools'],
    },
    { name: 'unsigned-image', registryScopes: ['registry.wabbit-networks.io/software/unsigned/net-utils'], signatureVerification: { level: 'skip' } },
    {
      name: 'use-expired-image',
      registryScopes: ['registry.acme-rockets.io/software/legacy/metrics'],
      signatureVerification: { level: 'strict', override: { expiry: 'log', revocation: 'skip' } },
      trustStores: ['ca:acme-rockets'],
      trustedIdentities: ['*'],
    },
    {
      name: 'global-policy-for-all-other-images',
      registryScopes: ['*'],
      signatureVerification: { level: 'audit' },
      trustStores: ['ca:acme-rockets', 'ca:acme-rockets-ca2'],
      trustedIdentities: ['x509.subject: C=US, ST=WA, L=Seattle, O=acme-rockets.io, OU=Finance, CN=SecureBuilder'],
    },
  ],
};

function withStatement(change: Record<string, unknown>): string {
  const statement = { ...specExample.trustPolicies[0], ...change };
  return JSON.stringify({ version: '1.0', trustPolicies: [statement] });
}

function codeAndMessage(fn: () => unknown): [string | undefined, string] {
  try {
    fn();
  } catch (err) {
    return [(err as { code?: string }).code, (err as Error).message];
  }
  return [undefined, ''];
}

describe('parseTrustPolicy', () => {
  it('accepts the specification example and picks statements exact scope first, then global', () => {
    const doc = parseTrustPolicy(JSON.stringify(specExample));
    expect(applicableTrustPolicy(doc, `registry.acme-rockets.io/software/net-logger@${digest}`).name).toBe('wabbit-networks-images');
    expect(applicableTrustPolicy(doc, `registry.acme-rockets.io/software/other@${digest}`).name).toBe('global-policy-for-all-other-images');
    const legacy = applicableTrustPolicy(doc, `registry.acme-rockets.io/software/legacy/metrics@${digest}`);
    expect(enforcementOf(legacy)).toEqual({ integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'enforce', expiry: 'log', revocation: 'skip' });
    expect(enforcementOf(applicableTrustPolicy(doc, `docker.io/library/x@${digest}`))).toMatchObject({ integrity: 'enforce', authenticity: 'log' });
  });

  it.each([
    [{ trustedIdentities: ['x509.subject: C=US, O=acme'] }, /lacks ST/],
    [{ trustedIdentities: ['x509.subject: C=US, ST=WA, O=acme', 'x509.subject: C=US, ST=WA, O=acme, OU=team'] }, /overlap/],
    [{ trustedIdentities: ['*', 'x509.subject: C=US, ST=WA, O=acme'] }, /wildcard identity/],
    [{ trustedIdentities: ['email: a@b.c'] }, /only x509\.subject is supported/],
    [{ trustStores: ['acme'] }, /must be <type>:<name>/],
    [{ trustStores: ['pgp:acme'] }, /use ca, signingAuthority or tsa/],
    [{ signatureVerification: { level: 'strict', override: { integrity: 'log' } } }, /integrity cannot be overridden/],
    [{ signatureVerification: { level: 'strict', override: { expiry: 'skip' } } }, /only revocation can be skipped/],
    [{ signatureVerification: { level: 'lenient' } }, /must be strict, permissive, audit or skip/],
    [{ registryScopes: ['*', 'registry.example/a'] }, /cannot be combined/],
    [{ registryScopes: ['registry.example/team/*'] }, /has a wildcard/],
    [{ registryScopes: ['net-monitor'] }, /not a fully qualified repository/],
    [{ registryScopes: ['*'], signatureVerification: { level: 'skip' }, trustStores: [], trustedIdentities: [] }, /skip cannot use the global scope/],
    [{ trustStores: [] }, /trustStores and trustedIdentities are both required/],
  ])('rejects %j', (change, message) => {
    const [code, text] = codeAndMessage(() => parseTrustPolicy(withStatement(change)));
    expect(code).toBe('NOTATION_POLICY_INVALID');
    expect(text).toMatch(message);
    expect(text).toMatch(/statement "wabbit-networks-images"/);
  });

  it('rejects a wrong version, duplicate names and a scope in two statements', () => {
    expect(codeAndMessage(() => parseTrustPolicy({ ...specExample, version: '2.0' }))[1]).toMatch(/version must be "1.0"/);
    const twice = { version: '1.0', trustPolicies: [specExample.trustPolicies[0], specExample.trustPolicies[0]] };
    expect(codeAndMessage(() => parseTrustPolicy(twice))[1]).toMatch(/used twice/);
    const sharedScope = { version: '1.0', trustPolicies: [specExample.trustPolicies[0], { ...specExample.trustPolicies[2], registryScopes: ['registry.acme-rockets.io/software/net-monitor'] }] };
    expect(codeAndMessage(() => parseTrustPolicy(sharedScope))[1]).toMatch(/appears in statements "wabbit-networks-images" and "use-expired-image"/);
    expect(codeAndMessage(() => parseTrustPolicy('{not json'))[0]).toBe('NOTATION_POLICY_INVALID');
  });

  it('needs digest references to select a statement', () => {
    expect(repositoryOfReference(`localhost:5000/team/model@${digest}`)).toBe('localhost:5000/team/model');
    const [code, text] = codeAndMessage(() => repositoryOfReference('registry.example/team/model:latest'));
    expect(code).toBe('NOTATION_REFERENCE_INVALID');
    expect(text).toMatch(/must name a digest/);
    expect(codeAndMessage(() => repositoryOfReference(`model@${digest}`))).toEqual(['NOTATION_REFERENCE_INVALID', expect.stringMatching(/not fully qualified/)]);
  });
});
