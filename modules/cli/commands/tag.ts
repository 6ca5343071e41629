/**
 * `modelship tag SRC DST`: give a stored model another reference.
 */
import { copy } from '../../oci/copy.js';
import { openArtifact, openStore } from '../../store/index.js';
import type { Command } from '../command.js';
import { requireArgs } from '../plumbing/arguments.js';
import { REGISTRY_OPTIONS } from '../plumbing/registry-flags.js';
import { newTagReference, openContextOf } from '../plumbing/references.js';

const USAGE = 'tag SRC DST [--plain-http] [--ca-file F]';

export const command: Command = {
  name: 'tag',
  summary: 'Give a model in the local store another reference',
  usage: USAGE,
  help: `Makes DST name the same manifest as SRC in the local store. SRC may also be an
oci:PATH:TAG layout or a registry reference: it is copied into the store first. Retagging
with a registry host in DST prepares a push there. --plain-http and --ca-file PEM apply when SRC
is a registry reference (HTTP for a local registry, or another CA to trust).

Examples:
  modelship tag llama:v1 127.0.0.1:5000/models/llama:v1
  modelship tag oci:./layout:v1 llama:v1`,
  options: { ...REGISTRY_OPTIONS },
  async run(ctx) {
    const [srcInput, dstInput] = requireArgs(ctx, ['SRC', 'DST'], USAGE);
    const store = openStore(ctx.env, ctx.cwd);
    const dst = newTagReference(dstInput!, 'DST');
    const src = await openArtifact(srcInput!, { ...openContextOf(ctx, store), store });
    const result = await copy(src.target, src.selector, store.layout, dst, { reporter: ctx.reporter });
    return { json: { source: src.display, reference: dst, digest: result.root.digest }, text: `${dst} -> ${result.root.digest}` };
  },
};
