/**
 * `modelship verify`: check a model folder against its OpenSSF Model Signing bundle, or a packed
 * artifact against its Sigstore bundle referrers, and print each check.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { EXIT_STATUS, ModelshipError, UsageError, describeError } from '../../errors/index.js';
import { DEFAULT_SIGNATURE_FILE, loadPublicKey, splitPem, verifyModelFolder, type VerificationPolicy, type VerificationResult } from '../../sign/index.js';
import { artifactRepository, verifyArtifact, verifyArtifactNotation, type ArtifactVerification } from '../../sign/artifact/index.js';
import { openArtifact, openStore } from '../../store/index.js';
import { flagList, flagString, type Command, type CommandContext, type CommandResult } from '../command.js';
import { REFERENCE_FORMS_HELP, REGISTRY_OPTIONS, openContextOf } from './copy.js';

export const command: Command = {
  name: 'verify',
  summary: 'Verify a model folder or a packed artifact against its signatures and print each check',
  usage: 'verify DIR|REF [--signature model.sig] (--key PUB.pem | --ca CA.pem | --cert-identity REGEX --cert-oidc-issuer URL --trusted-root FILE)',
  help: `
Verifies the bundle's signature and signer, then hashes DIR as it was signed and compares every file.
Prints each check and the first reason one failed; exits with status 8 when verification fails.

Policies:
  --key PUB.pem                   a bundle signed with a key
  --ca CA.pem                     a certificate bundle whose chain leads to this CA (PEM, may hold several);
                                  --cert-chain is another name for it
  --cert-identity REGEX --cert-oidc-issuer URL --trusted-root FILE
                                  keyless: the Fulcio identity (whole-string regex) and issuer,
                                  checked offline against a Sigstore trusted_root.json
--ignore-paths PATH (repeatable) leaves more files out, as model_signing's option does.

A packed artifact REF (the local store, oci:PATH:TAG, or HOST/REPO:TAG) is verified from its Sigstore
bundle referrers, without reading its weights: each bundle's signer, the model signature's files
against the manifest's layers as they are now (a swapped layer fails as "layer PATH digest differs"),
and image signatures and attestations against the manifest digest. It passes when a model signature
verifies and no bundle the policy trusts disagrees with the manifest.
  --trust-policy trustpolicy.json --trust-store ca:NAME=CA.pem (repeatable)
                                  verify the artifact's Notation signatures instead, per the trust
                                  policy, with the named trust stores' root certificates

${REFERENCE_FORMS_HELP}

Examples:
  modelship verify ./my-model --key signing.pub
  modelship verify llama:v1 --key signing.pub --json`,
  options: {
    signature: { type: 'string', short: 's' },
    key: { type: 'string' },
    ca: { type: 'string' },
    'cert-chain': { type: 'string' },
    'cert-identity': { type: 'string' },
    'cert-oidc-issuer': { type: 'string' },
    'trusted-root': { type: 'string' },
    'ignore-paths': { type: 'string', multiple: true },
    'trust-policy': { type: 'string' },
    'trust-store': { type: 'string', multiple: true },
    ...REGISTRY_OPTIONS,
  },
  async run(ctx) {
    const [target, ...extra] = ctx.args;
    if (!target || extra.length) throw new UsageError(`usage: modelship ${command.usage}`);
    const path = resolve(ctx.cwd, target);
    const info = await stat(path).catch(() => undefined);
    // What is not a file or folder here is an artifact reference.
    if (!info) return verifyReference(ctx, target);
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
};

async function verifyReference(ctx: CommandContext, input: string): Promise<CommandResult> {
  for (const flag of ['signature', 'ignore-paths']) {
    if (ctx.flags[flag] !== undefined) throw new UsageError(`--${flag} applies to a model folder; a packed artifact's signatures are its referrers`);
  }
  const trustPolicy = flagString(ctx, 'trust-policy');
  if (trustPolicy) return verifyNotationReference(ctx, input, resolve(ctx.cwd, trustPolicy));
  const policy = await verificationPolicy(ctx);
  const store = openStore(ctx.env, ctx.cwd);
  const opened = await openArtifact(input, { ...openContextOf(ctx, store), store, pull: false });
  const result = await verifyArtifact(opened.target, opened.selector, policy);
  return {
    json: {
      ok: result.ok,
      ...(result.ok ? {} : { code: 'VERIFY_FAILED', reason: result.reason }),
      reference: opened.display,
      digest: result.descriptor.digest,
      bundles: result.bundles,
    },
    text: renderArtifact(result, opened.display),
    ...(result.ok ? {} : { exitCode: EXIT_STATUS.verification }),
  };
}

async function verifyNotationReference(ctx: CommandContext, input: string, policyPath: string): Promise<CommandResult> {
  if (flagString(ctx, 'key') || flagString(ctx, 'ca') || flagString(ctx, 'cert-chain') || flagString(ctx, 'cert-identity')) throw new UsageError('--trust-policy verifies Notation signatures: give no --key, --ca or --cert-identity with it');
  const trustStores: Record<string, string> = {};
  for (const entry of flagList(ctx, 'trust-store')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new UsageError(`--trust-store takes NAME=FILE (e.g. ca:acme=ca.pem), got "${entry}"`);
    const path = resolve(ctx.cwd, entry.slice(eq + 1));
    trustStores[entry.slice(0, eq)] = await readText(path, '--trust-store');
  }
  const trustPolicy = await readText(policyPath, '--trust-policy');
  const store = openStore(ctx.env, ctx.cwd);
  const opened = await openArtifact(input, { ...openContextOf(ctx, store), store, pull: false });
  // Trust policies scope registry/repository; a layout is named localhost/<dir>, which a "*" scope matches.
  const result = await verifyArtifactNotation(opened.target, opened.selector, { trustPolicy, trustStores, repository: artifactRepository(opened) ?? `localhost/${basename(opened.reference.kind === 'layout' ? opened.reference.path : opened.display)}` });
  const lines: string[] = [];
  for (const s of result.signatures) {
    lines.push(`${s.ok ? 'ok  ' : 'FAIL'} notation ${s.referrer}${s.policy ? ` (trust policy "${s.policy}")` : ''}`);
    for (const c of s.checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(18)} ${c.detail}`);
  }
  lines.push(result.ok ? `verified: ${opened.display} (${result.descriptor.digest})` : `verification failed: ${result.reason}`);
  return {
    json: { ok: result.ok, ...(result.ok ? {} : { code: 'VERIFY_FAILED', reason: result.reason }), reference: opened.display, digest: result.descriptor.digest, notation: result.signatures },
    text: lines.join('\n'),
    ...(result.ok ? {} : { exitCode: EXIT_STATUS.verification }),
  };
}

function renderArtifact(result: ArtifactVerification, display: string): string {
  const lines: string[] = [];
  for (const b of result.bundles) {
    lines.push(`${b.ok ? 'ok  ' : 'FAIL'} ${b.role} ${b.predicateType ?? '(unreadable)'} in ${b.referrer}`);
    for (const c of b.checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(17)} ${c.detail}`);
  }
  lines.push(result.ok ? `verified: ${display} (${result.descriptor.digest})` : `verification failed: ${result.reason}`);
  return lines.join('\n');
}

function renderChecks(result: VerificationResult, target: string): string {
  const lines = result.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(17)} ${c.detail}`);
  lines.push(result.ok ? `verified: ${target}` : `verification failed: ${result.reason}`);
  return lines.join('\n');
}

/** The signer policy from --key, --ca or --cert-identity/--cert-oidc-issuer/--trusted-root (handoff reads the same flags). */
export async function verificationPolicy(ctx: CommandContext): Promise<VerificationPolicy> {
  const key = flagString(ctx, 'key');
  const ca = flagString(ctx, 'ca') ?? flagString(ctx, 'cert-chain');
  const identity = flagString(ctx, 'cert-identity');
  const issuer = flagString(ctx, 'cert-oidc-issuer');
  const chosen = [key, ca, identity ?? issuer].filter(Boolean).length;
  if (chosen !== 1) throw new UsageError('choose one policy: --key PUB.pem, --ca CA.pem, or --cert-identity REGEX --cert-oidc-issuer URL');
  if (key) {
    const path = resolve(ctx.cwd, key);
    return { kind: 'key', publicKey: loadPublicKey(await readText(path, '--key'), path) };
  }
  if (ca) {
    const path = resolve(ctx.cwd, ca);
    const anchors = splitPem(await readText(path, '--ca'));
    if (!anchors.length) throw new ModelshipError('INPUT_INVALID', `${path} holds no PEM certificate`);
    return { kind: 'certificate', trustAnchorsPem: anchors };
  }
  if (!identity || !issuer) throw new UsageError('keyless verification needs both --cert-identity and --cert-oidc-issuer');
  const rootPath = flagString(ctx, 'trusted-root');
  if (!rootPath) throw new UsageError('keyless verification runs offline here: pass --trusted-root FILE (a Sigstore trusted_root.json)');
  const path = resolve(ctx.cwd, rootPath);
  const text = await readText(path, '--trusted-root');
  let trustedRoot: unknown;
  try {
    trustedRoot = JSON.parse(text);
  } catch (err) {
    throw new ModelshipError('INPUT_INVALID', `${path} is not JSON: ${describeError(err)}`, { cause: err });
  }
  let pattern: RegExp;
  try {
    pattern = new RegExp(identity);
  } catch (err) {
    throw new UsageError(`--cert-identity is not a valid regular expression: ${describeError(err)}`);
  }
  return { kind: 'keyless', identity: pattern, issuer, trustedRoot };
}

async function readText(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ModelshipError('INPUT_INVALID', `cannot read ${path} given with ${flag}: ${describeError(err)}`, { cause: err });
  }
}
