/** The signer policy `verify` and `handoff` both read from their flags. */
import { resolve } from 'node:path';
import { ModelshipError, UsageError, describeError } from '../../errors/index.js';
import { loadPublicKey, splitPem, type VerificationPolicy } from '../../sign/index.js';
import { flagString, type CommandContext, type OptionSpec } from '../command.js';
import { readFlagFile } from './flag-files.js';

/** The flags that name the signer to trust, as `verificationPolicy` reads them. */
export const SIGNER_OPTIONS = {
  key: { type: 'string' },
  ca: { type: 'string' },
  'cert-chain': { type: 'string' },
  'cert-identity': { type: 'string' },
  'cert-oidc-issuer': { type: 'string' },
  'trusted-root': { type: 'string' },
} satisfies OptionSpec;

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
    return { kind: 'key', publicKey: loadPublicKey(await readFlagFile(path, '--key'), path) };
  }
  if (ca) {
    const path = resolve(ctx.cwd, ca);
    const anchors = splitPem(await readFlagFile(path, '--ca'));
    if (!anchors.length) throw new ModelshipError('INPUT_INVALID', `${path} holds no PEM certificate`);
    return { kind: 'certificate', trustAnchorsPem: anchors };
  }
  if (!identity || !issuer) throw new UsageError('keyless verification needs both --cert-identity and --cert-oidc-issuer');
  const rootPath = flagString(ctx, 'trusted-root');
  if (!rootPath) throw new UsageError('keyless verification runs offline here: pass --trusted-root FILE (a Sigstore trusted_root.json)');
  const path = resolve(ctx.cwd, rootPath);
  const text = await readFlagFile(path, '--trusted-root');
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
