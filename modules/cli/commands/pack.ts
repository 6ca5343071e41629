/**
 * `modelship pack [DIR] -t NAME:TAG`: build a ModelPack artifact from a model folder into the local store.
 */
import { resolve } from 'node:path';
import { UsageError } from '../../errors/index.js';
import { packModel, LAYER_FORMATS, type LayerFormat } from '../../modelpack/index.js';
import { formatPlatform } from '../../oci/platform.js';
import { loadSpec } from '../../project/index.js';
import { openStore } from '../../store/index.js';
import { flagBoolean, flagList, flagString, type Command, type CommandContext } from '../command.js';
import { REGISTRY_OPTIONS } from '../plumbing/registry-flags.js';
import { modelCarBase } from '../plumbing/modelcar-base.js';
import { newTagReference } from '../plumbing/references.js';

const USAGE = 'pack [DIR] [-f FILE] -t NAME:TAG [-t NAME:TAG ...] [--layer-format raw|tar|tar+gzip|tar+zstd] [--created] [--modelcar [--modelcar-base REF]] [--format modelkit]';

/** `--created` means now, or SOURCE_DATE_EPOCH when a reproducible build sets it. */
function createdTime(ctx: CommandContext): string | undefined {
  if (!flagBoolean(ctx, 'created')) return undefined;
  const epoch = ctx.env['SOURCE_DATE_EPOCH'];
  const when = epoch && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000) : new Date();
  return when.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const command = {
  name: 'pack',
  summary: 'Pack a model folder as a ModelPack OCI artifact into the local store',
  usage: USAGE,
  help: `Reads the folder's Kitfile, Modelfile or modelship.yaml (or classifies the files when there is
none) and writes a CNCF ModelPack artifact into the local store ($MODELSHIP_HOME/store, default
~/.modelship/store, an OCI image layout). Prints the manifest digest. Repeat -t to give the
artifact several tags at once; -t takes tags only (the digest comes from the content).

Each file is one layer (as modctl writes them), read once. Weights stay uncompressed: "raw" (the default) stores the file
itself, so the layer digest is the file's sha256; --layer-format tar|tar+gzip|tar+zstd wraps each
file in a tar (compression applies to non-weight files). The result is reproducible: the same folder
gives the same digest on any machine, unless --created records the time (SOURCE_DATE_EPOCH is used
when set). Unchanged files are not read again on a re-pack.

--modelcar also writes a runnable image (busybox base, the model under /models) for KServe's
oci:// ModelCar mode, sharing the layer blobs; the tag then names an index holding both. Its layers
are mounted by overlayfs (at most 500), so small files share one tar layer per top-level folder and
kind (filepath = the folder, each file's sha256 listed in dev.modelship.files+json), while each
weight and each file of 64 MiB or more keeps its own; an image over 450 layers is refused.
The base defaults to docker.io/library/busybox:1.37, which needs Docker Hub: offline, give
--modelcar-base a mirror (HOST/library/busybox:1.37) or a layout (oci:./busybox:latest, made once
with "skopeo copy docker://busybox:1.37 oci:./busybox:latest").
--format modelkit also writes a KitOps ModelKit tagged <TAG>-modelkit.

Examples:
  modelship pack . -t llama:v1
  modelship pack . -t llama:v1 -t llama:latest
  modelship pack ./model -f Kitfile -t 127.0.0.1:5000/models/llama:v1 --json
  modelship pack . -t ghcr.io/acme/llama:v2 --layer-format tar+zstd --created
  modelship pack . -t llama:car --modelcar --modelcar-base oci:./busybox:latest`,
  options: {
    file: { type: 'string', short: 'f' },
    tag: { type: 'string', short: 't', multiple: true },
    'layer-format': { type: 'string' },
    created: { type: 'boolean' },
    modelcar: { type: 'boolean' },
    'modelcar-base': { type: 'string' },
    format: { type: 'string' },
    ...REGISTRY_OPTIONS,
  },
  async run(ctx) {
    if (ctx.args.length > 1) throw new UsageError(`expected at most one folder, got ${ctx.args.length}.\nUsage: modelship ${USAGE}`);
    const tagInputs = flagList(ctx, 'tag');
    if (tagInputs.length === 0) throw new UsageError(`-t NAME:TAG is required, e.g. -t llama:v1 or -t ghcr.io/acme/llama:v1.\nUsage: modelship ${USAGE}`);
    const references = [...new Set(tagInputs.map((t) => newTagReference(t, '-t')))];
    const reference = references[0]!;
    const layerFormat = (flagString(ctx, 'layer-format') ?? 'raw') as LayerFormat;
    if (!LAYER_FORMATS.includes(layerFormat)) throw new UsageError(`--layer-format must be one of ${LAYER_FORMATS.join(', ')}, got "${layerFormat}"`);
    const format = flagString(ctx, 'format') ?? 'modelpack';
    if (format !== 'modelpack' && format !== 'modelkit') throw new UsageError(`--format must be modelpack or modelkit, got "${format}"`);
    const dir = resolve(ctx.cwd, ctx.args[0] ?? '.');
    const file = flagString(ctx, 'file');
    const spec = await loadSpec(dir, file, { onNote: (m) => ctx.reporter.note(m) });
    const store = openStore(ctx.env, ctx.cwd);
    const modelcar = await modelCarBase(ctx, store);
    const created = createdTime(ctx);
    const result = await packModel(spec, store.layout, {
      tag: reference,
      layerFormat,
      format,
      cache: store.cache,
      reporter: ctx.reporter,
      ...(created ? { created } : {}),
      ...(modelcar ? { modelcar } : {}),
    });
    // Every further tag names the same content, so it is only a tag write, never a second pack.
    for (const extra of references.slice(1)) {
      await store.layout.tag(result.tagged, extra);
      if (result.modelkit) await store.layout.tag(result.modelkit.descriptor, `${extra}-modelkit`);
    }
    const json = {
      reference,
      references,
      digest: result.tagged.digest,
      mediaType: result.tagged.mediaType,
      layers: result.files.map((f) => ({ path: f.path, kind: f.kind, mediaType: f.layer.mediaType, digest: f.layer.digest, size: f.layer.size, ...(f.entries ? { files: f.entries.length } : {}) })),
      modelpack: result.descriptor.digest,
      ...(result.modelcar ? { modelcar: result.modelcar.image.digest, modelcarImages: result.modelcar.images.map((i) => ({ platform: formatPlatform(i.platform), digest: i.descriptor.digest })) } : {}),
      ...(result.modelkit ? { modelkit: { reference: `${reference}-modelkit`, digest: result.modelkit.descriptor.digest } } : {}),
      filesRead: result.stats.filesRead.length,
      filesCached: result.stats.hits,
    };
    return { json, text: result.tagged.digest };
  },
} satisfies Command;
