/** `modelship keys generate`: an ECDSA key pair for signing, private key 0600 and optionally encrypted. */
import { link, open, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError, ModelshipError } from '../../errors/index.js';
import { generateSigningKeyPair, parseCurve, publicKeyHint, loadPublicKey } from '../../sign/index.js';
import { readKeyPassword } from '../../sign/password.js';
import { flagBoolean, flagString, type Command } from '../command.js';

export const command: Command = {
  name: 'keys',
  summary: 'Generate a signing key pair (keys generate)',
  usage: 'keys generate [-o PREFIX] [--curve p256|p384|p521] [--encrypt]',
  help: `
Writes PREFIX.key (PKCS#8 PEM, mode 0600) and PREFIX.pub (SPKI PEM). PREFIX defaults to "modelship".
--encrypt protects the private key with a password from MODELSHIP_KEY_PASSWORD, or asks on the terminal.
Existing files are never overwritten.

Example: modelship keys generate -o signing --curve p384 --encrypt`,
  options: {
    output: { type: 'string', short: 'o' },
    curve: { type: 'string' },
    encrypt: { type: 'boolean' },
  },
  async run(ctx) {
    const [sub, ...extra] = ctx.args;
    if (sub !== 'generate' || extra.length) throw new UsageError(`usage: modelship ${command.usage}`);
    const prefix = resolve(ctx.cwd, flagString(ctx, 'output') ?? 'modelship');
    const curve = parseCurve(flagString(ctx, 'curve') ?? 'p256');
    const password = flagBoolean(ctx, 'encrypt')
      ? await readKeyPassword({ env: ctx.env, stdin: ctx.stdin, stderr: ctx.stderr }, 'Password for the new private key: ')
      : undefined;
    if (password === '') throw new UsageError('an empty password does not protect a key; set MODELSHIP_KEY_PASSWORD to a real one');
    const pair = generateSigningKeyPair(curve, password);
    const privatePath = `${prefix}.key`;
    const publicPath = `${prefix}.pub`;
    await writeNew(privatePath, pair.privateKeyPem, 0o600);
    try {
      await writeNew(publicPath, pair.publicKeyPem, 0o644);
    } catch (err) {
      // Half a pair is no use and would block the next try: take the private key back.
      await unlink(privatePath).catch(() => {});
      throw err;
    }
    const hint = publicKeyHint(loadPublicKey(pair.publicKeyPem, publicPath));
    return {
      json: { privateKey: privatePath, publicKey: publicPath, curve, encrypted: password !== undefined, hint },
      text: `wrote ${privatePath} (private, 0600${password !== undefined ? ', encrypted' : ''}) and ${publicPath}\nkey hint ${hint}`,
    };
  },
};

/** Refuse to replace a key: losing one is worse than an error. Written whole, then linked into place. */
async function writeNew(path: string, text: string, mode: number): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', mode);
  try {
    try {
      await handle.writeFile(text);
    } finally {
      await handle.close();
    }
    // link() fails if the name exists, so no key is ever replaced, even by a concurrent run.
    await link(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new ModelshipError('INPUT_INVALID', `${path} already exists; choose another prefix with -o or remove it first`, { cause: err });
    }
    throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}
