/** Key passwords come from an environment variable or a terminal prompt that does not echo. */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { ModelshipError } from '../errors/index.js';

export const KEY_PASSWORD_ENV = 'MODELSHIP_KEY_PASSWORD';

export interface PasswordSource {
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stderr: NodeJS.WritableStream;
}

export async function readKeyPassword(source: PasswordSource, prompt: string): Promise<string> {
  const fromEnv = source.env[KEY_PASSWORD_ENV];
  if (fromEnv !== undefined) return fromEnv;
  if (!source.stdin.isTTY) {
    throw new ModelshipError('SIGN_KEY_PASSWORD', `a key password is needed: set ${KEY_PASSWORD_ENV} (no terminal to ask on)`);
  }
  source.stderr.write(prompt);
  // Swallow the echo so the password never reaches the screen or a log.
  const muted = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input: source.stdin, output: muted, terminal: true });
  try {
    return await new Promise<string>((resolvePassword) => rl.question('', resolvePassword));
  } finally {
    rl.close();
    source.stderr.write('\n');
  }
}
