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
Safe while pack or pull runs: blobs a running write stored (and may still tag) are kept and
counted as keptForWrites. Temp files that an interrupted pack or pull left in ingest/ are
removed once their process is gone (removedTemp).

Examples:
  modelship rm llama:v1 && modelship prune
  modelship prune --json`,
  options: {},
  async run(ctx) {
    const store = openStore(ctx.env, ctx.cwd);
    const result = await pruneStore(store);
    const kept = result.keptForWrites ? `; kept ${result.keptForWrites} blob(s) a running pack or pull is writing` : '';
    const temp = result.removedTemp.length ? `; removed ${result.removedTemp.length} abandoned temp file(s), ${formatBytes(result.tempBytes)}` : '';
    return { json: result, text: `Deleted ${result.removedBlobs.length} blob(s), ${formatBytes(result.bytes)} freed${kept}${temp}` };
  },
};
