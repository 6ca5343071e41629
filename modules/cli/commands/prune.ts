/**
 * `modelship prune`: delete blobs that no reference (or referrer of one) reaches.
 */
import { formatBytes } from '../../progress/index.js';
import { openStore, pruneStore } from '../../store/index.js';
import type { Command } from '../command.js';

export const command: Command = {
  name: 'prune',
  summary: 'Delete blobs in the local store that no reference reaches',
  usage: 'prune',
  help: `Walks every reference in the local store (and the signatures and SBOMs attached to them)
and deletes every blob none of them reaches. Referrers whose subject is gone are dropped too.

Examples:
  modelship rm llama:v1 && modelship prune
  modelship prune --json`,
  options: {},
  async run(ctx) {
    const store = openStore(ctx.env, ctx.cwd);
    const result = await pruneStore(store);
    return { json: result, text: `Deleted ${result.removedBlobs.length} blob(s), ${formatBytes(result.bytes)} freed` };
  },
};
