/** Run the `modelship` command in-process and capture what it prints. */
import { Readable, Writable } from 'node:stream';
import { main } from '../../modules/cli/main.js';

export interface CapturedStream {
  stream: Writable;
  /** Everything written so far, decoded as UTF-8. */
  readonly text: string;
}

export function captureStream(): CapturedStream {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      cb();
    },
  });
  return {
    stream,
    get text() {
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

export interface CliOptions {
  /** The environment the command sees; empty unless given, so the host's settings stay out. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Text on standard input, or a stream (one that says it is not a TTY, for example). */
  stdin?: string | NodeJS.ReadableStream;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Standard output parsed as JSON. */
  json(): any;
}

export async function runCli(args: string[], opts: CliOptions = {}): Promise<CliRun> {
  const stdout = captureStream();
  const stderr = captureStream();
  const stdin = typeof opts.stdin === 'string' ? Readable.from([opts.stdin]) : opts.stdin;
  const code = await main(args, {
    stdout: stdout.stream,
    stderr: stderr.stream,
    env: opts.env ?? {},
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    ...(stdin === undefined ? {} : { stdin }),
  });
  const out = stdout.text;
  return { code, stdout: out, stderr: stderr.text, json: () => JSON.parse(out) };
}

/**
 * The CLI from source as one node process (no tsx wrapper in between, so a signal reaches the CLI
 * itself), for exit and kill behaviour: `execa(CLI_PROCESS.command, CLI_PROCESS.args([...]))`.
 */
export const CLI_PROCESS = {
  command: process.execPath,
  args: (args: string[]): string[] => [
    '--import',
    new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href,
    new URL('../infer/run-cli.ts', import.meta.url).pathname,
    ...args,
  ],
};
