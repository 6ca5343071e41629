/**
 * `modelship inspect REF`: what a manifest or index holds, without downloading any layer.
 */
import { ANNOTATION_TITLE, fetchManifest, REF_NAME_ANNOTATION, type Descriptor, type ImageIndex, type ImageManifest } from '../../oci/index.js';
import { describeCopy, openCopy, openStore } from '../../store/index.js';
import { folderEntriesOf, readArtifact, unpackedSize, type ArtifactFile, type ModelArtifactView } from '../../modelpack/index.js';
import { formatBytes } from '../../progress/index.js';
import { flagBoolean, type Command } from '../command.js';
import { requireArgs } from '../plumbing/arguments.js';
import { REGISTRY_OPTIONS } from '../plumbing/registry-flags.js';
import { openContextOf, REFERENCE_FORMS_HELP } from '../plumbing/references.js';


function describe(desc: Descriptor): string {
  const title = desc.annotations?.[ANNOTATION_TITLE];
  return `${desc.digest}  ${String(desc.size).padStart(12)}  ${desc.mediaType}${title ? `  ${title}` : ''}`;
}

function annotationLines(annotations: Record<string, string> | undefined, indent: string): string[] {
  return Object.entries(annotations ?? {})
    .filter(([k]) => k !== ANNOTATION_TITLE && k !== REF_NAME_ANNOTATION)
    .map(([k, v]) => `${indent}${k}: ${v}`);
}

function summarize(display: string, desc: Descriptor, manifest: ImageManifest | ImageIndex): string {
  const lines = [`${display}`, `  digest:       ${desc.digest}`, `  mediaType:    ${desc.mediaType}`, `  size:         ${desc.size}`];
  if (manifest.artifactType) lines.push(`  artifactType: ${manifest.artifactType}`);
  if (manifest.subject) lines.push(`  subject:      ${manifest.subject.digest}`);
  if ('manifests' in manifest) {
    lines.push(`  manifests (${manifest.manifests.length}):`);
    for (const m of manifest.manifests) {
      const platform = m.platform ? `  ${m.platform.os}/${m.platform.architecture}${m.platform.variant ? `/${m.platform.variant}` : ''}` : '';
      lines.push(`    ${describe(m)}${platform}${m.artifactType ? `  ${m.artifactType}` : ''}`);
    }
  } else {
    lines.push('  config:', `    ${describe(manifest.config)}`);
    const total = manifest.layers.reduce((sum, l) => sum + l.size, 0);
    lines.push(`  layers (${manifest.layers.length}, ${total} bytes):`);
    for (const l of manifest.layers) lines.push(`    ${describe(l)}`, ...annotationLines(l.annotations, '      '));
  }
  const notes = annotationLines(manifest.annotations, '    ');
  if (notes.length) lines.push('  annotations:', ...notes);
  return lines.join('\n');
}

/** The model fields a ModelPack config carries, whichever of the readable formats held them. */
function modelFields(view: ModelArtifactView): Record<string, string> {
  type Fields = Record<string, unknown> | undefined;
  const config = (view.config ?? {}) as { descriptor?: Fields; config?: Fields; package?: Fields; model?: Fields };
  const pick = (o: Fields, keys: string[]) =>
    Object.fromEntries(keys.flatMap((k) => (o?.[k] === undefined ? [] : [[k, Array.isArray(o[k]) ? (o[k] as unknown[]).join(', ') : String(o[k])]])));
  // A ModelKit's config is its Kitfile: package and model sections instead of descriptor and config.
  if (view.format === 'modelkit') return { ...pick(config.package, ['name', 'version', 'license']), ...pick(config.model, ['framework', 'format']) };
  return { ...pick(config.descriptor, ['name', 'version', 'licenses']), ...pick(config.config, ['architecture', 'format', 'paramSize', 'precision', 'quantization']) };
}

function modelSummary(view: ModelArtifactView): string {
  const lines = [`  model (${view.format}):`];
  for (const [k, v] of Object.entries(modelFields(view))) lines.push(`    ${k.padEnd(13)} ${v}`);
  lines.push('    files:');
  for (const f of view.files) lines.push(`      ${f.kind.padEnd(12)} ${formatBytes(f.size).padStart(10)}  ${f.name ?? f.path}${f.layerFormat === 'raw' ? '' : `  (${layerNote(f)})`}`);
  return lines.join('\n');
}

/** A tar layer's format and, where known, what it unpacks to: a small layer can hide a large file. */
function layerNote(f: ArtifactFile): string {
  const unpacked = unpackedSize(f);
  const entries = folderEntriesOf(f.layer);
  const format = entries ? `${f.layerFormat}, folder of ${entries.length} files` : f.layerFormat;
  return unpacked === undefined || f.layerFormat === 'tar' ? format : `${format}, ${formatBytes(unpacked)} unpacked`;
}

/** The model view of REF when it is a model artifact modelship reads; undefined for other content. */
async function modelView(target: Parameters<typeof readArtifact>[0], selector: string): Promise<ModelArtifactView | undefined> {
  const view = await readArtifact(target, selector).catch(() => undefined);
  return view && view.format !== 'unknown' ? view : undefined;
}

const USAGE = 'inspect REF [--local] [--plain-http] [--ca-file F]';

export const command: Command = {
  name: 'inspect',
  summary: 'Show a manifest: media type, artifact type, config and layers',
  usage: USAGE,
  help: `Resolves REF and prints its manifest (or index) in brief: media type, artifactType, the
config, and each layer with its size and title. For a model artifact (ModelPack, KitOps ModelKit,
Docker model, Ollama) it adds the model view: its format, name, architecture, parameter size,
precision, quantization and files by kind. No layer is downloaded. --json prints
{reference, digest, mediaType, size, manifest, model?} with the manifest exactly as stored and
model as {format, fields, files}.

A registry reference shows what the registry serves (what a cluster pulls), even when the local
store holds a copy under that name; --local shows the store's copy instead. The output names the
copy (copy: registry|local|layout) and warns when the other copy's digest differs.

${REFERENCE_FORMS_HELP}

Examples:
  modelship inspect oci:./build/layout:v1
  modelship inspect 127.0.0.1:5000/models/llama:v1 --plain-http
  modelship inspect ghcr.io/acme/llama@sha256:<hex> --json
  modelship inspect 127.0.0.1:5000/models/llama:v1 --local`,
  options: { local: { type: 'boolean' }, ...REGISTRY_OPTIONS },
  async run(ctx) {
    const [input] = requireArgs(ctx, ['REF'], USAGE);
    const store = openStore(ctx.env, ctx.cwd);
    const copy = await openCopy(input!, { ...openContextOf(ctx, store), store, prefer: flagBoolean(ctx, 'local') ? 'local' : 'registry', compare: true });
    const { opened, descriptor: desc } = copy;
    if (copy.warning) ctx.stderr.write(`warning: ${copy.warning}\n`);
    const manifest = await fetchManifest(opened.target, desc, opened.display);
    const view = await modelView(opened.target, desc.digest);
    const model = view && {
      format: view.format,
      fields: modelFields(view),
      files: view.files.map((f) => {
        const unpacked = unpackedSize(f);
        const entries = folderEntriesOf(f.layer);
        return {
          path: f.name ?? f.path,
          kind: f.kind,
          digest: f.digest,
          size: f.size,
          layerFormat: f.layerFormat,
          ...(unpacked === undefined ? {} : { unpackedSize: unpacked }),
          ...(entries ? { entries: entries.map((e) => ({ path: e.path, size: e.size, sha256: e.sha256 })) } : {}),
        };
      }),
    };
    return {
      json: {
        reference: opened.display,
        digest: desc.digest,
        copy: copy.where,
        ...(copy.other ? { otherCopy: copy.other } : {}),
        mediaType: desc.mediaType,
        size: desc.size,
        manifest,
        ...(model ? { model } : {}),
        ...(copy.warning ? { warnings: [copy.warning] } : {}),
      },
      text: [summarize(opened.display, desc, manifest), `  copy:         ${describeCopy(opened, desc.digest)}`, ...(view ? [modelSummary(view)] : [])].join('\n'),
    };
  },
};
