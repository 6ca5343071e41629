/**
 * A KitOps ModelKit beside the ModelPack artifact, for users on `kit`: config = the Kitfile as JSON
 * (application/vnd.kitops.modelkit.config.v1+json), one uncompressed tar layer per Kitfile entry.
 */
import { loadYaml } from '../fs/lazy-packages.js';
import { ANNOTATION_CREATED, MEDIA_TYPE, type Descriptor, type ImageManifest, type Target } from '../oci/types.js';
import { silentReporter, type Reporter } from '../progress/index.js';
import type { FileKind, ModelSpec } from '../project/model-spec.js';
import { normalizeSpecPath } from '../project/paths.js';
import { pushBytes, pushManifest } from './content.js';
import type { ResolvedFile } from './files.js';
import { hashTap } from './hashing.js';
import { ingestStream } from './ingest.js';
import { tarStream } from './tar.js';

export const MODELKIT_ARTIFACT_TYPE = 'application/vnd.kitops.modelkit.manifest.v1+json';
export const MODELKIT_CONFIG_MEDIA_TYPE = 'application/vnd.kitops.modelkit.config.v1+json';
export type ModelKitLayerKind = 'model' | 'modelpart' | 'dataset' | 'code' | 'docs';

export function modelKitLayerMediaType(kind: ModelKitLayerKind): string {
  return `application/vnd.kitops.modelkit.${kind}.v1.tar`;
}

export interface ModelKitResult {
  descriptor: Descriptor;
  manifest: ImageManifest;
  kitfile: Record<string, unknown>;
}

const SECTION_OF: Record<FileKind, ModelKitLayerKind> = {
  weight: 'model',
  weightConfig: 'modelpart',
  dataset: 'dataset',
  code: 'code',
  doc: 'docs',
};
/** KitOps writes the model first, then parts, code, datasets, docs. */
const SECTION_ORDER: ModelKitLayerKind[] = ['model', 'modelpart', 'code', 'dataset', 'docs'];

interface Group {
  kind: ModelKitLayerKind;
  path: string;
  files: ResolvedFile[];
}

function groupsOf(spec: ModelSpec, files: ResolvedFile[]): Group[] {
  const byEntry = new Map<number, ResolvedFile[]>();
  for (const f of files) byEntry.set(f.entry, [...(byEntry.get(f.entry) ?? []), f]);
  const groups: Group[] = [];
  let modelTaken = false;
  spec.files.forEach((entry, i) => {
    const members = byEntry.get(i);
    if (!members?.length) return;
    let kind = SECTION_OF[entry.kind];
    // One Kitfile model; further weight entries are its parts.
    if (kind === 'model') {
      if (modelTaken) kind = 'modelpart';
      modelTaken = true;
    }
    const normal = normalizeSpecPath(entry.path);
    groups.push({ kind, path: 'path' in normal ? normal.path : entry.path, files: members });
  });
  return groups.sort((a, b) => SECTION_ORDER.indexOf(a.kind) - SECTION_ORDER.indexOf(b.kind));
}

function kitfileFor(spec: ModelSpec, groups: Group[], layers: { digest: string; diffId: string }[]): Record<string, unknown> {
  if (spec.source.format === 'kitfile' && spec.originalText) {
    // kit stores the user's Kitfile itself; keep it, as JSON.
    return loadYaml().parse(spec.originalText, { version: '1.2', schema: 'failsafe' }) as Record<string, unknown>;
  }
  const d = spec.descriptor;
  const kitfile: Record<string, unknown> = { manifestVersion: '1.0.0' };
  const pkg = Object.fromEntries(
    Object.entries({ name: d.name, version: d.version, description: d.description, authors: d.authors, license: d.licenses?.join(' AND ') }).filter(([, v]) => v !== undefined),
  );
  if (Object.keys(pkg).length) kitfile['package'] = pkg;
  const info = (i: number) => ({ path: groups[i]!.path, digest: layers[i]!.digest, diffId: layers[i]!.diffId });
  const parts: unknown[] = [];
  const code: unknown[] = [];
  const datasets: unknown[] = [];
  const docs: unknown[] = [];
  groups.forEach((g, i) => {
    if (g.kind === 'model') {
      kitfile['model'] = { ...(d.name ? { name: d.name } : {}), ...(spec.config.format ? { format: spec.config.format } : {}), ...info(i) };
    } else if (g.kind === 'modelpart') parts.push(info(i));
    else if (g.kind === 'code') code.push(info(i));
    else if (g.kind === 'dataset') datasets.push(info(i));
    else docs.push(info(i));
  });
  if (parts.length) kitfile['model'] = { ...((kitfile['model'] as object | undefined) ?? {}), parts };
  if (code.length) kitfile['code'] = code;
  if (datasets.length) kitfile['datasets'] = datasets;
  if (docs.length) kitfile['docs'] = docs;
  return kitfile;
}

export async function packModelKit(
  spec: ModelSpec,
  files: ResolvedFile[],
  store: Target,
  opts: { created?: string; reporter?: Reporter } = {},
): Promise<ModelKitResult> {
  const reporter = opts.reporter ?? silentReporter;
  const groups = groupsOf(spec, files);
  const layers: (Descriptor & { diffId: string })[] = [];
  for (const group of groups) {
    const id = `modelkit:${group.path}`;
    reporter.start(id, `ModelKit ${group.kind} ${group.path}`, group.files.reduce((n, f) => n + f.size, 0));
    const { stream, done } = tarStream(
      group.files.map((f) => ({ name: f.path, source: f.absPath, size: f.size, mode: f.mode, mtimeMs: f.mtimeMs, ino: f.ino })),
      (n) => reporter.advance(id, n),
    );
    const tap = hashTap();
    stream.on('error', (err) => tap.destroy(err));
    const [blob] = await Promise.all([ingestStream(store, modelKitLayerMediaType(group.kind), stream.pipe(tap)), done]);
    reporter.finish(id, 'done');
    layers.push({ mediaType: modelKitLayerMediaType(group.kind), digest: blob.digest, size: blob.size, diffId: tap.digest() });
  }
  const kitfile = kitfileFor(spec, groups, layers);
  const config = await pushBytes(store, MODELKIT_CONFIG_MEDIA_TYPE, new TextEncoder().encode(JSON.stringify(kitfile)));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    artifactType: MODELKIT_ARTIFACT_TYPE,
    config,
    layers: layers.map(({ diffId: _d, ...l }) => l),
    ...(opts.created ? { annotations: { [ANNOTATION_CREATED]: opts.created } } : {}),
  };
  const descriptor = await pushManifest(store, manifest);
  return { descriptor, manifest, kitfile };
}
