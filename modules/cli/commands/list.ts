/**
 * `modelship list`: what the local store holds.
 */
import { listStore, openStore } from '../../store/index.js';
import type { Command } from '../command.js';

function human(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

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
    const rows = entries.map((e) => `${e.reference.padEnd(48)} ${e.digest.slice(0, 19)}  ${human(e.size).padStart(10)}  ${e.format}`);
    const text = entries.length ? [`${'REFERENCE'.padEnd(48)} ${'DIGEST'.padEnd(19)}  ${'SIZE'.padStart(10)}  FORMAT`, ...rows].join('\n') : `The store ${store.root} is empty; add a model with "modelship pack . -t NAME:TAG".`;
    return { json: { store: store.root, models: entries }, text };
  },
};
