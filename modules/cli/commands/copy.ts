/**
 * `modelship copy SRC DST`: copy a manifest or index and everything it references between
 * OCI layouts and registries, optionally with its referrers.
 */
import { UsageError } from '../../errors/index.js';
import { formatBytes } from '../../progress/index.js';
import { copy, openReference, parsePlatform, type OpenedReference } from '../../oci/index.js';
import { flagBoolean, flagString, type Command } from '../command.js';
import { requireArgs } from '../plumbing/arguments.js';
import { REGISTRY_OPTIONS } from '../plumbing/registry-flags.js';
import { destinationContextOf, openContextOf, REFERENCE_FORMS_HELP } from '../plumbing/references.js';

function parseConcurrency(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--concurrency must be a whole number from 1 to 64, got "${value}"`);
  return n;
}

/** The destination keeps the source's tag when it names none. */
function destinationSelector(src: OpenedReference, dst: OpenedReference): string {
  return dst.reference.digest ?? dst.reference.tag ?? src.reference.tag ?? dst.selector;
}

const USAGE = 'copy SRC DST [--referrers] [--platform OS/ARCH] [--concurrency N] [--plain-http] [--ca-file F]';

export const command: Command = {
  name: 'copy',
  summary: 'Copy a model or image with its blobs (and referrers) between layouts and registries',
  usage: USAGE,
  help: `Copies the manifest (or index) SRC names, and every manifest and blob under it, to DST.
Blobs DST already has are skipped, a sub-graph DST already has is skipped whole, and blobs are
mounted from the source repository when both are on the same registry. Content is verified
against its digest as it streams; nothing unverified is left at the destination.
With --referrers the signatures, SBOMs and other artifacts attached to it are copied too,
recursively (the signatures of the SBOM...), through the referrers API or the referrers tag,
for the index and every manifest in it.
With --platform OS/ARCH, an index (a ModelCar tag) is narrowed to its image for that platform,
which DST gets under the tag: tools that cannot choose from an index (umoci 0.4 refuses an index
with two manifests as "tag is ambiguous") unpack that layout by tag.

${REFERENCE_FORMS_HELP}

Examples:
  modelship copy oci:./build/layout:v1 127.0.0.1:5000/models/llama:v1 --plain-http
  modelship copy ghcr.io/acme/llama:v1 oci:./mirror:v1 --referrers
  modelship copy registry.example.com/team/model@sha256:<hex> registry.example.com/prod/model:v1 --json
  modelship copy ghcr.io/acme/llama-car:v1 oci:./rootfs-layout:v1 --platform linux/amd64`,
  options: {
    referrers: { type: 'boolean' },
    platform: { type: 'string' },
    concurrency: { type: 'string' },
    ...REGISTRY_OPTIONS,
  },
  async run(ctx) {
    const [srcInput, dstInput] = requireArgs(ctx, ['SRC', 'DST'], USAGE);
    const concurrency = parseConcurrency(flagString(ctx, 'concurrency'));
    const platformFlag = flagString(ctx, 'platform');
    const platform = platformFlag === undefined ? undefined : parsePlatform(platformFlag);
    const openCtx = openContextOf(ctx);
    const src = await openReference(srcInput!, openCtx);
    const dst = await openReference(dstInput!, destinationContextOf(ctx));
    const dstSelector = destinationSelector(src, dst);
    const result = await copy(src.target, src.selector, dst.target, dstSelector, {
      reporter: ctx.reporter,
      referrers: flagBoolean(ctx, 'referrers'),
      ...(concurrency ? { concurrency } : {}),
      ...(platform ? { platform } : {}),
    });
    const json = {
      source: src.display,
      destination: dst.display,
      digest: result.root.digest,
      mediaType: result.root.mediaType,
      size: result.root.size,
      copied: result.copied,
      skipped: result.skipped,
      mounted: result.mounted,
      bytes: result.bytes,
    };
    const text = [
      `Copied ${src.display} -> ${dst.display}`,
      `  digest:  ${result.root.digest}`,
      `  ${result.copied} copied (${formatBytes(result.bytes)}), ${result.skipped} already there, ${result.mounted} mounted`,
    ].join('\n');
    return { json, text };
  },
};
