/**
 * The shape of one CLI command. Each command lives in commands/<name>.ts, parses nothing itself
 * (main does that from `options`) and returns a result that main prints as text or JSON.
 */
import type { ParseArgsConfig } from 'node:util';
import type { Reporter } from '../progress/index.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface CommandContext {
  /** Positional arguments after the command name (and sub-command, if any). */
  args: string[];
  /** Parsed flags, keyed by long name. */
  flags: Record<string, string | boolean | (string | boolean)[] | undefined>;
  json: boolean;
  cwd: string;
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  /** Human output for commands that stream (serve, run); results still go through the return value. */
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  isTTY: boolean;
  /** The command line that started this CLI (node, its flags, the script), when it runs as a process. */
  invocation?: readonly string[];
}

export interface CommandResult {
  /** What `--json` prints. */
  json: unknown;
  /** What a person reads; omitted means nothing is printed. */
  text?: string;
  /** Non-zero marks a failed check that is not an exception (e.g. a gate), keeping the JSON printed. */
  exitCode?: number;
}

export interface Command {
  name: string;
  summary: string;
  /** e.g. "copy SRC DST" */
  usage: string;
  /** Longer help: what it does, references accepted, examples. */
  help: string;
  options: OptionSpec;
  run(ctx: CommandContext): Promise<CommandResult>;
}

/** Options shared by every command; main parses them for all. */
export const GLOBAL_OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  quiet: { type: 'boolean', short: 'q' },
} satisfies OptionSpec;

export function flagString(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function flagBoolean(ctx: CommandContext, name: string): boolean {
  return ctx.flags[name] === true;
}

export function flagList(ctx: CommandContext, name: string): string[] {
  const v = ctx.flags[name];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  return typeof v === 'string' ? [v] : [];
}
