/**
 * `modelship push REF [DEST]`: send a stored artifact to the registry its reference names, or to DEST.
 */
import { ModelshipError, UsageError } from '../../errors/index.js';
import { copy } from '../../oci/copy.js';
import { openReference } from '../../oci/open.js';
import { formatBytes } from '../../progress/index.js';
import { openArtifact, openStore, remoteOf } from '../../store/index.js';
import { flagBoolean, type Command } from '../command.js';
import { REGISTRY_OPTIONS } from '../plumbing/registry-flags.js';
import { destinationContextOf, openContextOf, REFERENCE_FORMS_HELP } from '../plumbing/references.js';

const USAGE = 'push REF [DEST] [--no-referrers] [--plain-http] [--ca-file F]';

export const command: Command = {
  name: 'push',
  summary: 'Push a model from the local store to a registry (only missing blobs go up)',
  usage: USAGE,
  help: `Pushes the artifact REF names in the local store, with its signatures and SBOMs (referrers),
to the registry named by REF itself (when packed with -t HOST/REPO:TAG) or by DEST. Blobs the
registry already has are skipped, so after a one-file change only that file's blob is uploaded.
REF may also be an oci:PATH:TAG layout.

${REFERENCE_FORMS_HELP}

Examples:
  modelship push 127.0.0.1:5000/models/llama:v1 --plain-http
  modelship push llama:v1 ghcr.io/acme/llama:v1
  modelship push oci:./layout:v1 registry.example.com/team/llama:v1 --json`,
  options: { 'no-referrers': { type: 'boolean' }, ...REGISTRY_OPTIONS },
  async run(ctx) {
    if (ctx.args.length < 1 || ctx.args.length > 2) throw new UsageError(`expected REF and an optional DEST.\nUsage: modelship ${USAGE}`);
    const [refInput, destInput] = ctx.args as [string, string | undefined];
    const store = openStore(ctx.env, ctx.cwd);
    const openCtx = openContextOf(ctx, store);
    const src = await openArtifact(refInput, { ...openCtx, store, pull: false });
    if (src.kind === 'remote') {
      throw new ModelshipError('STORE_NOT_FOUND', `${refInput} is not in the local store ${store.root}; pack it first ("modelship pack -t ${refInput}") or see "modelship list"`);
    }
    const destination = destInput ?? (src.kind === 'store' ? remoteOf(src.display) : undefined);
    if (!destination) throw new UsageError(`${refInput} names no registry: give DEST, e.g. modelship push ${refInput} ghcr.io/acme/${refInput}`);
    const dst = await openReference(destination, destinationContextOf(ctx));
    if (dst.kind !== 'remote') throw new UsageError(`DEST must be a registry reference HOST/REPO[:TAG], got "${destination}"`);
    const tag = dst.reference.digest ?? dst.reference.tag ?? src.reference.tag ?? dst.selector;
    const result = await copy(src.target, src.selector, dst.target, tag, { reporter: ctx.reporter, referrers: !flagBoolean(ctx, 'no-referrers') });
    const json = { reference: dst.display, digest: result.root.digest, mediaType: result.root.mediaType, copied: result.copied, skipped: result.skipped, mounted: result.mounted, bytes: result.bytes };
    return { json, text: `Pushed ${src.display} -> ${dst.display}\n  digest: ${result.root.digest}\n  ${result.copied} uploaded (${formatBytes(result.bytes)}), ${result.skipped} already there` };
  },
};
