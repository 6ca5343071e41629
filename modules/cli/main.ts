/**
 * The `modelship` command: parses arguments, runs one command, prints its result, and maps
 * errors to exit statuses. The only place that decides an exit status.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { modelshipVersion } from '../fs/package.js';
import { EXIT_STATUS, ModelshipError, UsageError, exitStatusOf, isModelshipError, describeError, systemErrorOf } from '../errors/index.js';
import { GLOBAL_OPTIONS, type Command, type CommandContext } from './command.js';
import { COMMANDS, findCommand } from './registry.js';
import { escapeControl } from './escape.js';
import { createTerminalReporter } from './progress.js';
import { silentReporter } from '../progress/index.js';

export interface MainIO {
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  stdin?: NodeJS.ReadableStream;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** How this CLI was started, e.g. [node, ...execArgv, absolute script path]; the hook records it. */
  invocation?: readonly string[];
}

/** The command line that runs a script the way this process runs: node, its flags (a loader), the script. */
export function processInvocation(scriptUrl: string): string[] {
  return [process.execPath, ...process.execArgv, fileURLToPath(scriptUrl)];
}

export function version(): string {
  return modelshipVersion();
}

export async function main(argv: string[], io: MainIO = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const json = argv.includes('--json');
  try {
    const [name, ...rest] = argv;
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      if (name === 'help' && rest[0]) return await main([rest[0], '--help'], io);
      stdout.write(overview());
      return name === undefined ? EXIT_STATUS.usage : EXIT_STATUS.ok;
    }
    if (name === '--version' || name === '-V' || name === 'version') {
      stdout.write(json ? JSON.stringify({ version: version() }) + '\n' : `modelship ${version()}\n`);
      return EXIT_STATUS.ok;
    }
    const entry = findCommand(name);
    if (!entry) throw new UsageError(`unknown command "${name}". Run "modelship --help" to see the commands.`);
    const { command } = await entry.load();
    const parsed = parseCommandLine(command, rest);
    if (parsed.values['help']) {
      stdout.write(commandHelp(command));
      return EXIT_STATUS.ok;
    }
    const env = io.env ?? process.env;
    const isTTY = Boolean(stderr.isTTY) && !env['CI'];
    const ctx: CommandContext = {
      args: parsed.positionals,
      flags: parsed.values,
      json,
      cwd: io.cwd ?? process.cwd(),
      env,
      reporter: isTTY && !json && !parsed.values['quiet'] ? createTerminalReporter(stderr) : silentReporter,
      stdout,
      stderr,
      stdin: io.stdin ?? process.stdin,
      isTTY,
      ...(io.invocation ? { invocation: io.invocation } : {}),
    };
    const result = await command.run(ctx);
    if (json) stdout.write(JSON.stringify(result.json, null, 2) + '\n');
    else if (result.text) stdout.write(escapeControl(result.text.endsWith('\n') ? result.text : result.text + '\n'));
    return result.exitCode ?? EXIT_STATUS.ok;
  } catch (err) {
    return reportError(err, { json, stdout, stderr });
  }
}

/** Parses a command's arguments as every run does (strict: an unknown flag is a usage error). */
export function parseCommandLine(command: Command, args: string[]) {
  try {
    return parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...command.options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${describeError(err)}\nUsage: modelship ${command.usage}\nRun "modelship ${command.name} --help" for details.`);
  }
}

function reportError(thrown: unknown, out: { json: boolean; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): number {
  // A full disk reads the same whichever step hit it: one line, never a stack.
  const err = systemErrorOf(thrown) ?? thrown;
  const status = exitStatusOf(err);
  if (out.json) {
    const body = isModelshipError(err)
      ? { error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } }
      : { error: { code: 'INTERNAL', message: describeError(err) } };
    out.stdout.write(JSON.stringify(body, null, 2) + '\n');
  }
  if (isModelshipError(err)) {
    out.stderr.write(`error: ${escapeControl(err.message)}\n`);
  } else {
    // A bug, not a user error: the stack helps the report.
    out.stderr.write(`internal error: ${escapeControl(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
    out.stderr.write('This is a bug in modelship; please report it with the command you ran.\n');
  }
  return status;
}

const GROUP_TITLES: Record<string, string> = {
  project: 'Project',
  artifacts: 'Artifacts',
  registry: 'Registries',
  document: 'Documentation and openness',
  sign: 'Signing',
  serve: 'Serving',
  handoff: 'Hand-off to the cluster',
};

function overview(): string {
  const lines = [
    'modelship: package, document, sign, serve and ship models as OCI artifacts.',
    '',
    'Usage: modelship <command> [options]',
    '',
  ];
  for (const [group, title] of Object.entries(GROUP_TITLES)) {
    const cmds = COMMANDS.filter((c) => c.group === group);
    if (cmds.length === 0) continue;
    lines.push(`${title}:`);
    for (const c of cmds) lines.push(`  ${c.name.padEnd(12)} ${c.summary}`);
    lines.push('');
  }
  lines.push(
    'Global options:',
    '  --json        print machine-readable JSON on stdout (errors too)',
    '  -q, --quiet   no progress output',
    '  -h, --help    help for a command: modelship <command> --help',
    '  --version     print the version',
    '',
    'Exit status: 0 ok, 1 failure, 2 usage error, 3 invalid input, 4 not found, 5 authentication,',
    '6 network or registry, 7 integrity (digest/size), 8 verification failed, 9 gate failed, 10 engine.',
    '',
  );
  return lines.join('\n');
}

export function commandHelp(command: Command): string {
  const opts = Object.entries(command.options).map(([name, o]) => {
    const short = o.short ? `-${o.short}, ` : '    ';
    const arg = o.type === 'string' ? ' VALUE' : '';
    return `  ${short}--${name}${arg}`;
  });
  return [
    `Usage: modelship ${command.usage}`,
    '',
    command.summary,
    '',
    command.help.trim(),
    '',
    ...(opts.length ? ['Options:', ...opts, ''] : []),
    'Global options: --json, -q/--quiet, -h/--help',
    '',
  ].join('\n');
}

export { ModelshipError };
