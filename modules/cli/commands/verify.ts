/** `modelship verify`: check a model folder against its OpenSSF Model Signing bundle and print each check. */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EXIT_STATUS, ModelshipError, UsageError, describeError } from '../../errors/index.js';
import { DEFAULT_SIGNATURE_FILE, loadPublicKey, splitPem, verifyModelFolder, type VerificationPolicy, type VerificationResult } from '../../sign/index.js';
import { flagList, flagString, type Command, type CommandContext } from '../command.js';

export const command: Command = {
  name: 'verify',
  summary: 'verify a model folder against its signature',
  usage: 'verify DIR [--signature model.sig] (--key PUB.pem | --ca CA.pem | --cert-identity REGEX --cert-oidc-issuer URL --trusted-root FILE)',
  help: `
Verifies the bundle's signature and signer, then hashes DIR as it was signed and compares every file.
Prints each check and the first reason one failed; exits with status 8 when verification fails.

Policies:
  --key PUB.pem                   a bundle signed with a key
  --ca CA.pem                     a certificate bundle whose chain leads to this CA (PEM, may hold several)
  --cert-identity REGEX --cert-oidc-issuer URL --trusted-root FILE
                                  keyless: the Fulcio identity (whole-string regex) and issuer,
                                  checked offline against a Sigstore trusted_root.json
--ignore-paths PATH (repeatable) leaves more files out, as model_signing's option does.

Example: modelship verify ./my-model --key signing.pub`,
  options: {
    signature: { type: 'string', short: 's' },
    key: { type: 'string' },
    ca: { type: 'string' },
    'cert-chain': { type: 'string' },
    'cert-identity': { type: 'string' },
    'cert-oidc-issuer': { type: 'string' },
    'trusted-root': { type: 'string' },
    'ignore-paths': { type: 'string', multiple: true },
  },
  async run(ctx) {
    const [target, ...extra] = ctx.args;
    if (!target || extra.length) throw new UsageError(`usage: modelship ${command.usage}`);
    const path = resolve(ctx.cwd, target);
    const info = await stat(path).catch(() => undefined);
    if (!info) {
      // Artifact references (verify REF) read the bundle from the referrers; not in this build yet.
      throw new UsageError(`${target} is not a folder or file here; verifying an OCI artifact reference is not supported yet, verify the model folder`);
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
};

function renderChecks(result: VerificationResult, target: string): string {
  const lines = result.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(17)} ${c.detail}`);
  lines.push(result.ok ? `verified: ${target}` : `verification failed: ${result.reason}`);
  return lines.join('\n');
}

async function verificationPolicy(ctx: CommandContext): Promise<VerificationPolicy> {
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
  let trustedRoot: unknown;
  try {
    trustedRoot = JSON.parse(await readText(path, '--trusted-root'));
  } catch (err) {
    throw new ModelshipError('INPUT_INVALID', `${path} is not JSON: ${describeError(err)}`);
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
    throw new ModelshipError('INPUT_INVALID', `cannot read ${path} given with ${flag}: ${describeError(err)}`);
  }
}
