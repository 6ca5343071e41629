/**
 * Every command, registered once. Modules load lazily so `--help` and small commands start fast.
 * To add a command: write commands/<name>.ts exporting `command: Command`, then add one line here.
 */
import type { Command } from './command.js';

export interface CommandEntry {
  name: string;
  summary: string;
  group: 'artifacts' | 'registry' | 'document' | 'sign' | 'serve' | 'handoff' | 'project';
  load: () => Promise<{ command: Command }>;
}

export const COMMANDS: CommandEntry[] = [
];

export function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((c) => c.name === name);
}
