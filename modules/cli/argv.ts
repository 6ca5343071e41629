/**
 * The one way a door (the Dagger module, the GitHub Action, the git hook) writes a modelship command
 * line: typed from the commands' own option definitions, so a flag that does not exist, or a value
 * of the wrong kind, fails to compile. Imports only types, so it loads anywhere (the Dagger engine,
 * the Action's runner) without the CLI.
 */
import type { GLOBAL_OPTIONS } from './command.js';
import type { command as card } from './commands/card.js';
import type { command as check } from './commands/check.js';
import type { command as handoff } from './commands/handoff.js';
import type { command as hooks } from './commands/hooks.js';
import type { command as mof } from './commands/mof.js';
import type { command as pack } from './commands/pack.js';
import type { command as sbom } from './commands/sbom.js';
import type { command as serve } from './commands/serve.js';
import type { command as ship } from './commands/ship.js';
import type { command as sign } from './commands/sign.js';
import type { command as trace } from './commands/trace.js';
import type { command as verify } from './commands/verify.js';

/** The commands the doors run, with their option definitions. */
interface DoorCommands {
  card: typeof card;
  check: typeof check;
  handoff: typeof handoff;
  hooks: typeof hooks;
  mof: typeof mof;
  pack: typeof pack;
  sbom: typeof sbom;
  serve: typeof serve;
  ship: typeof ship;
  sign: typeof sign;
  trace: typeof trace;
  verify: typeof verify;
}

export type DoorCommand = keyof DoorCommands;

type FlagValue<O> = O extends { type: 'boolean' } ? boolean : O extends { multiple: true } ? readonly string[] : string;

type OptionsFlags<O> = { -readonly [K in keyof O]?: FlagValue<O[K]> | undefined };

/** The flags `name` accepts, by long name: booleans for switches, strings for values. */
export type FlagsOf<N extends DoorCommand> = OptionsFlags<DoorCommands[N]['options'] & Omit<typeof GLOBAL_OPTIONS, 'help'>>;

/**
 * `modelship NAME POSITIONALS... --flag=value...`, without the program itself. Values go as
 * `--flag=value`, so a value that starts with "-" is never read as a flag; positionals go after "--"
 * when one of them starts with "-".
 */
export function commandLine<N extends DoorCommand>(name: N, positionals: readonly string[], flags: FlagsOf<N> = {} as FlagsOf<N>): string[] {
  const argv: string[] = [];
  for (const [flag, value] of Object.entries(flags as Record<string, boolean | string | readonly string[] | undefined>)) {
    if (value === undefined || value === false) continue;
    if (value === true) argv.push(`--${flag}`);
    else if (typeof value === 'string') argv.push(`--${flag}=${value}`);
    else for (const v of value) argv.push(`--${flag}=${v}`);
  }
  if (positionals.some((p) => p.startsWith('-'))) return [name, ...argv, '--', ...positionals];
  return [name, ...positionals, ...argv];
}
