/**
 * `modelship rm REF`: remove a reference from the local store.
 */
import { openStore, removeReference } from '../../store/index.js';
import type { Command } from '../command.js';
import { requireArgs } from '../plumbing/arguments.js';

export const command: Command = {
  name: 'rm',
  summary: 'Remove a reference from the local store (prune frees the space)',
  usage: 'rm REF',
  help: `Removes REF from the local store. The blobs stay until "modelship prune", so other
references that share them are untouched.

Examples:
  modelship rm llama:v1
  modelship rm 127.0.0.1:5000/models/llama:v1 && modelship prune`,
  options: {},
  async run(ctx) {
    const [input] = requireArgs(ctx, ['REF'], 'rm REF');
    const store = openStore(ctx.env, ctx.cwd);
    const desc = await removeReference(store, input!);
    return { json: { removed: input, digest: desc.digest }, text: `Removed ${input} (${desc.digest})` };
  },
};
