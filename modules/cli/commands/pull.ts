/**
 * `modelship pull REF`: copy a registry artifact into the local store.
 */
import { UsageError } from '../../errors/index.js';
import { openReference } from '../../oci/open.js';
import { formatBytes } from '../../progress/index.js';
import { openStore, pullIntoStore } from '../../store/index.js';
import { flagBoolean, type Command } from '../command.js';
import { requireArgs } from '../plumbing/arguments.js';
import { REGISTRY_OPTIONS } from '../plumbing/registry-flags.js';
import { openContextOf } from '../plumbing/references.js';

const USAGE = 'pull REF [--with-referrers] [--plain-http] [--ca-file F]';

export const command: Command = {
  name: 'pull',
  summary: 'Pull a model from a registry into the local store',
  usage: USAGE,
  help: `Copies the artifact REF names (a ModelPack, ModelKit, Docker model, Ollama model or any OCI
artifact) into the local store under the same reference, verifying every blob as it arrives.
Blobs the store already has are not fetched again. --with-referrers brings its signatures and
SBOMs too. Commands such as unpack pull on their own when given a registry reference.

Examples:
  modelship pull 127.0.0.1:5000/models/llama:v1 --plain-http
  modelship pull ghcr.io/acme/llama:v1 --with-referrers --json`,
  options: { 'with-referrers': { type: 'boolean' }, ...REGISTRY_OPTIONS },
  async run(ctx) {
    const [input] = requireArgs(ctx, ['REF'], USAGE);
    if (input!.startsWith('oci:')) throw new UsageError(`pull takes a registry reference; to bring in a layout use: modelship tag ${input} NAME:TAG`);
    const store = openStore(ctx.env, ctx.cwd);
    const openCtx = openContextOf(ctx, store);
    const opened = await openReference(input!, openCtx);
    const pulled = await pullIntoStore(opened, input!, { ...openCtx, store, withReferrers: flagBoolean(ctx, 'with-referrers') });
    const r = pulled.pulled!;
    const json = { reference: pulled.display, digest: r.root.digest, mediaType: r.root.mediaType, copied: r.copied, skipped: r.skipped, bytes: r.bytes };
    return { json, text: `Pulled ${pulled.display}\n  digest: ${r.root.digest}\n  ${r.copied} fetched (${formatBytes(r.bytes)}), ${r.skipped} already stored` };
  },
};
