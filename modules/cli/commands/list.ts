/**
 * `modelship list`: what the local store holds.
 */
import { formatBytes } from '../../progress/index.js';
import { listStore, openStore } from '../../store/index.js';
import type { Command } from '../command.js';

export const command: Command = {
  name: 'list',
  summary: 'List the models in the local store',
  usage: 'list',
  help: `Lists every reference in the local store ($MODELSHIP_HOME/store, default ~/.modelship/store)
with its digest, total size (manifest, config and blobs) and format (modelpack, modelkit,
docker-model, ollama, modelcar...).

Examples:
  modelship list
  modelship list --json
  MODELSHIP_HOME=/data/modelship modelship list`,
  options: {},
  async run(ctx) {
    const store = openStore(ctx.env, ctx.cwd);
    const entries = await listStore(store);
    const rows = entries.map((e) => `${e.reference.padEnd(48)} ${e.digest.slice(0, 19)}  ${formatBytes(e.size).padStart(10)}  ${e.format}`);
    const text = entries.length ? [`${'REFERENCE'.padEnd(48)} ${'DIGEST'.padEnd(19)}  ${'SIZE'.padStart(10)}  FORMAT`, ...rows].join('\n') : `The store ${store.root} is empty; add a model with "modelship pack . -t NAME:TAG".`;
    return { json: { store: store.root, models: entries }, text };
  },
};
