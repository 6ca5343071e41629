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
  { name: 'copy', summary: 'Copy a model or image with its blobs (and referrers) between layouts and registries', group: 'registry', load: () => import('./commands/copy.js') },
  { name: 'inspect', summary: 'Show a manifest: media type, artifact type, config and layers', group: 'artifacts', load: () => import('./commands/inspect.js') },
  { name: 'discover', summary: 'List the artifacts that refer to a manifest, as a tree', group: 'artifacts', load: () => import('./commands/discover.js') },
];

export function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((c) => c.name === name);
}
