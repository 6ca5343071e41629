/**
 * `modelship verify`: check a model folder against its OpenSSF Model Signing bundle, or a packed
 * artifact against its Sigstore bundle referrers, and print each check.
 */
import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { EXIT_STATUS, UsageError } from '../../errors/index.js';
import { DEFAULT_SIGNATURE_FILE, verifyModelFolder, type VerificationResult } from '../../sign/index.js';
import { artifactRepository, verifyArtifact, verifyArtifactNotation, type ArtifactVerification } from '../../sign/artifact/index.js';
import { describeCopy, openCopy, openStore, type OpenedCopy } from '../../store/index.js';
import { flagBoolean, flagList, flagString, type Command, type CommandContext, type CommandResult } from '../command.js';
import { readFlagFile } from '../plumbing/flag-files.js';
import { REGISTRY_OPTIONS } from '../plumbing/registry-flags.js';
import { REFERENCE_FORMS_HELP, openContextOf } from '../plumbing/references.js';
import { SIGNER_OPTIONS, verificationPolicy } from '../plumbing/verification.js';

export const command = {
  name: 'verify',
  summary: 'Verify a model folder or a packed artifact against its signatures and print each check',
  usage: 'verify DIR|REF [--signature model.sig] (--key PUB.pem | --ca CA.pem | --cert-identity REGEX --cert-oidc-issuer URL --trusted-root FILE)',
  help: `
Verifies the bundle's signature and signer, then hashes DIR as it was signed and compares every file.
Prints each check and the first reason one failed; exits with status 8 when verification fails.

Policies:
  --key PUB.pem                   a bundle signed with a key
  --ca CA.pem                     a certificate bundle whose chain leads to this CA (PEM, may hold several);
                                  --cert-chain is another name for it; judged at the signing
                                  certificate's notBefore, as model_signing does (no timestamp)
  --cert-identity REGEX --cert-oidc-issuer URL --trusted-root FILE
                                  keyless: the Fulcio identity (whole-string regex) and issuer,
                                  checked offline against a Sigstore trusted_root.json
--ignore-paths PATH (repeatable) leaves more files out, as model_signing's option does.

A packed artifact REF (the local store, oci:PATH:TAG, or HOST/REPO:TAG) is verified from its Sigstore
bundle referrers, without reading its weights: each bundle's signer, the model signature's files
against the manifest's layers as they are now (a swapped layer fails as "layer PATH digest differs"),
and image signatures and attestations against the manifest digest. It passes when a model signature
verifies, a trusted image signature or attestation covers the manifest digest (the model signature
covers the files only: the config, media types and annotations need the manifest's), and no bundle
the policy trusts disagrees with the manifest.
  --allow-unsigned-manifest       pass with only a model signature, warning that the config, media
                                  types and annotations are unauthenticated
  --local                         check the local store's copy of HOST/REPO:TAG; by default a registry
                                  reference checks what the registry serves (what a cluster pulls),
                                  and warns when the store holds a different digest under that name
  --trust-policy trustpolicy.json --trust-store ca:NAME=CA.pem (repeatable)
                                  verify the artifact's Notation signatures instead, per the trust
                                  policy, with the named trust stores' root certificates

${REFERENCE_FORMS_HELP}

Examples:
  modelship verify ./my-model --key signing.pub
  modelship verify llama:v1 --key signing.pub --json
  modelship verify 127.0.0.1:5000/models/llama:v1 --plain-http --key signing.pub
  modelship verify 127.0.0.1:5000/models/llama:v1 --local --key signing.pub`,
  options: {
    signature: { type: 'string', short: 's' },
    ...SIGNER_OPTIONS,
    'ignore-paths': { type: 'string', multiple: true },
    'trust-policy': { type: 'string' },
    'trust-store': { type: 'string', multiple: true },
    'allow-unsigned-manifest': { type: 'boolean' },
    local: { type: 'boolean' },
    ...REGISTRY_OPTIONS,
  },
  async run(ctx) {
    const [target, ...extra] = ctx.args;
    if (!target || extra.length) throw new UsageError(`usage: modelship ${command.usage}`);
    const path = resolve(ctx.cwd, target);
    const info = await stat(path).catch(() => undefined);
    // What is not a file or folder here is an artifact reference.
    if (!info) return verifyReference(ctx, target);
    for (const flag of ['local', 'allow-unsigned-manifest']) {
      if (ctx.flags[flag] !== undefined) throw new UsageError(`--${flag} applies to a packed artifact REF; ${target} is a model folder`);
    }
    const signatureFlag = flagString(ctx, 'signature');
    const signature = signatureFlag ? resolve(ctx.cwd, signatureFlag) : join(info.isDirectory() ? path : resolve(path, '..'), DEFAULT_SIGNATURE_FILE);
    const policy = await verificationPolicy(ctx);
    const result = await verifyModelFolder(path, signature, policy, { ignorePaths: flagList(ctx, 'ignore-paths') });
    return {
      json: { ok: result.ok, ...(result.ok ? {} : { code: 'VERIFY_FAILED', reason: result.reason }), checks: result.checks, signature },
      text: renderChecks(result, target),
      ...(result.ok ? {} : { exitCode: EXIT_STATUS.verification }),
    };
  },
} satisfies Command;

async function verifyReference(ctx: CommandContext, input: string): Promise<CommandResult> {
  for (const flag of ['signature', 'ignore-paths']) {
    if (ctx.flags[flag] !== undefined) throw new UsageError(`--${flag} applies to a model folder; a packed artifact's signatures are its referrers`);
  }
  const trustPolicy = flagString(ctx, 'trust-policy');
  if (trustPolicy) return verifyNotationReference(ctx, input, resolve(ctx.cwd, trustPolicy));
  const policy = await verificationPolicy(ctx);
  const copy = await openCopyToCheck(ctx, input);
  const result = await verifyArtifact(copy.opened.target, copy.descriptor.digest, policy, { allowUnsignedManifest: flagBoolean(ctx, 'allow-unsigned-manifest') });
  const warnings = [...(copy.warning ? [copy.warning] : []), ...(result.warnings ?? [])];
  warn(ctx, warnings);
  return {
    json: {
      ok: result.ok,
      ...(result.ok ? {} : { code: 'VERIFY_FAILED', reason: result.reason }),
      ...copyJson(copy),
      bundles: result.bundles,
      ...(warnings.length ? { warnings } : {}),
    },
    text: renderArtifact(result, copy),
    ...(result.ok ? {} : { exitCode: EXIT_STATUS.verification }),
  };
}

/** What the registry serves, unless --local asks for the store's copy; compared with the other copy. */
async function openCopyToCheck(ctx: CommandContext, input: string): Promise<OpenedCopy> {
  const store = openStore(ctx.env, ctx.cwd);
  return openCopy(input, { ...openContextOf(ctx, store), store, prefer: flagBoolean(ctx, 'local') ? 'local' : 'registry', compare: true });
}

/** Which copy and digest were checked, and the other copy's digest when there is one. */
function copyJson(copy: OpenedCopy): Record<string, unknown> {
  return {
    reference: copy.opened.display,
    digest: copy.descriptor.digest,
    copy: copy.where,
    ...(copy.other ? { otherCopy: copy.other } : {}),
  };
}

function warn(ctx: CommandContext, warnings: string[]): void {
  for (const w of warnings) ctx.stderr.write(`warning: ${w}\n`);
}

async function verifyNotationReference(ctx: CommandContext, input: string, policyPath: string): Promise<CommandResult> {
  if (flagString(ctx, 'key') || flagString(ctx, 'ca') || flagString(ctx, 'cert-chain') || flagString(ctx, 'cert-identity')) throw new UsageError('--trust-policy verifies Notation signatures: give no --key, --ca or --cert-identity with it');
  const trustStores: Record<string, string> = {};
  for (const entry of flagList(ctx, 'trust-store')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new UsageError(`--trust-store takes NAME=FILE (e.g. ca:acme=ca.pem), got "${entry}"`);
    const path = resolve(ctx.cwd, entry.slice(eq + 1));
    trustStores[entry.slice(0, eq)] = await readFlagFile(path, '--trust-store');
  }
  const trustPolicy = await readFlagFile(policyPath, '--trust-policy');
  const copy = await openCopyToCheck(ctx, input);
  const opened = copy.opened;
  warn(ctx, copy.warning ? [copy.warning] : []);
  // Trust policies scope registry/repository; a layout is named localhost/<dir>, which a "*" scope matches.
  const result = await verifyArtifactNotation(opened.target, copy.descriptor.digest, { trustPolicy, trustStores, repository: artifactRepository(opened) ?? `localhost/${basename(opened.reference.kind === 'layout' ? opened.reference.path : opened.display)}` });
  const lines: string[] = [];
  for (const s of result.signatures) {
    lines.push(`${s.ok ? 'ok  ' : 'FAIL'} notation ${s.referrer}${s.policy ? ` (trust policy "${s.policy}")` : ''}`);
    for (const c of s.checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(18)} ${c.detail}`);
  }
  const checked = describeCopy(opened, result.descriptor.digest);
  lines.push(result.ok ? `verified: ${checked}` : `verification failed: ${result.reason}\nchecked ${checked}`);
  return {
    json: { ok: result.ok, ...(result.ok ? {} : { code: 'VERIFY_FAILED', reason: result.reason }), ...copyJson(copy), notation: result.signatures, ...(copy.warning ? { warnings: [copy.warning] } : {}) },
    text: lines.join('\n'),
    ...(result.ok ? {} : { exitCode: EXIT_STATUS.verification }),
  };
}

function renderArtifact(result: ArtifactVerification, copy: OpenedCopy): string {
  const lines: string[] = [];
  for (const b of result.bundles) {
    const what = b.form === 'simple-signing' ? `cosign simple signing (${b.source === 'referrer' ? 'OCI 1.1 referrer' : 'tag .sig'}) layer ${b.layer}` : (b.predicateType ?? '(unreadable)');
    lines.push(`${b.ok ? 'ok  ' : 'FAIL'} ${b.role} ${what} in ${b.referrer}${b.subject === result.descriptor.digest ? '' : ` (on ${b.subject})`}`);
    for (const c of b.checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(17)} ${c.detail}`);
  }
  const checked = describeCopy(copy.opened, result.descriptor.digest);
  lines.push(result.ok ? `verified: ${checked}` : `verification failed: ${result.reason}\nchecked ${checked}`);
  return lines.join('\n');
}

function renderChecks(result: VerificationResult, target: string): string {
  const lines = result.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(17)} ${c.detail}`);
  lines.push(result.ok ? `verified: ${target}` : `verification failed: ${result.reason}`);
  return lines.join('\n');
}
