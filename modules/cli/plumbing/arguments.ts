/** Checks on positional arguments and numeric flags, with the usage line in the error. */
import { UsageError } from '../../errors/index.js';
import { flagString, type CommandContext } from '../command.js';

export function requireArgs(ctx: CommandContext, names: string[], usage: string): string[] {
  if (ctx.args.length !== names.length) {
    throw new UsageError(`expected ${names.join(' and ')}, got ${ctx.args.length} argument(s).\nUsage: modelship ${usage}`);
  }
  return ctx.args;
}

export function intFlag(ctx: CommandContext, name: string, min: number, max: number): number | undefined {
  const raw = flagString(ctx, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not "${raw}".`);
  return n;
}
