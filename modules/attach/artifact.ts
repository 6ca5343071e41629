/**
 * A packed model read as a project: the manifest view, a spec built from its ModelPack config, and
 * a scratch folder holding only its small documents and code (README, DATACARD, LICENSE files,
 * evaluation results, dependency files), so the folder-based readers work on artifacts too.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isEvalResultsFile } from '../card/index.js';
import { ModelshipError } from '../errors/index.js';
import {
  ANNOTATION_FILEPATH,
  folderEntriesOf,
  LEGACY_ANNOTATION_FILEPATH,
  modelRootOf,
  readArtifact,
  unpackView,
  type ArtifactFile,
  type ModelArtifactView,
  type ModelPackConfig,
} from '../modelpack/index.js';
import type { ReadOnlyTarget } from '../oci/index.js';
import type { ModelSpec } from '../project/index.js';

/** Documents and code are small; a layer larger than this is not read for facts (it stays listed). */
export const MAX_FETCHED_LAYER_BYTES = 16 * 1024 * 1024;

export interface ArtifactProject {
  /** How the user named the artifact, for messages and the SBOM's distribution reference. */
  reference: string;
  view: ModelArtifactView;
  config: ModelPackConfig;
  /** The config as a ModelSpec with no file entries (kinds come from the layers). */
  spec: ModelSpec;
  /** Scratch folder with the fetched documents and code, laid out by their paths below `root`. */
  dir: string;
  /** The folder the model's files sit under in the artifact: `models/` in a ModelCar, else "". */
  root: string;
}

/** The path a layer's file has in the artifact, from its annotation (tar layers unpack at "."). */
export function layerPath(file: ArtifactFile): string {
  const a = file.layer.annotations ?? {};
  return a[ANNOTATION_FILEPATH] ?? a[LEGACY_ANNOTATION_FILEPATH] ?? file.path;
}

/** The file's path in the model, as in the plain pack: a ModelCar's `models/` prefix is dropped. */
export function modelPath(project: Pick<ArtifactProject, 'root'>, file: ArtifactFile): string {
  const at = layerPath(file);
  return project.root && at.startsWith(project.root) ? at.slice(project.root.length) : at;
}

/** The files a layer holds, by their paths in the model: a folder layer's listed files, else the layer's one file. */
export function modelFilesOf(project: Pick<ArtifactProject, 'root'>, file: ArtifactFile): { path: string; size?: number }[] {
  const strip = (at: string) => (project.root && at.startsWith(project.root) ? at.slice(project.root.length) : at);
  const entries = folderEntriesOf(file.layer);
  return entries ? entries.map((e) => ({ path: strip(e.path), size: e.size })) : [{ path: modelPath(project, file) }];
}

/** Docs, code and evaluation results are read; weights and datasets never are. */
export function isFetchedForFacts(file: ArtifactFile): boolean {
  if (file.size > MAX_FETCHED_LAYER_BYTES) return false;
  return file.kind === 'doc' || file.kind === 'code' || (file.kind !== 'weight' && file.kind !== 'dataset' && isEvalResultsFile(layerPath(file)));
}

function specOf(config: ModelPackConfig, reference: string, dir: string): ModelSpec {
  const { datasetsURL, createdAt: _createdAt, ...descriptor } = config.descriptor;
  // A config without a name still names a model: the repository's last path segment.
  const name = descriptor.name ?? reference.replace(/^oci:/, '').replace(/[:@].*$/, '').split('/').filter(Boolean).pop() ?? 'model';
  return {
    source: { format: 'none' },
    contextDir: dir,
    descriptor: { ...descriptor, name, ...(datasetsURL?.[0] ? { datasetsURL: datasetsURL[0] } : {}) },
    config: config.config,
    files: [],
    ignore: [],
    pipeline: {},
  };
}

/** Read the ModelPack artifact `selector` names on `target`, fetch its small files, run `use`, clean up. */
export async function withArtifactProject<T>(target: ReadOnlyTarget, selector: string, reference: string, use: (project: ArtifactProject) => Promise<T>): Promise<T> {
  const view = await readArtifact(target, selector);
  if (view.format !== 'modelpack' && view.format !== 'modelpack-legacy') {
    throw new ModelshipError('MODEL_INVALID', `${reference} is a ${view.format} artifact, not a ModelPack model: pack it with "modelship pack" first`, {
      details: { reference, format: view.format },
    });
  }
  const config = view.config as ModelPackConfig | undefined;
  if (!config) throw new ModelshipError('MODEL_INVALID', `${reference} has no readable ModelPack config (${view.manifest.config.digest}): repack it with "modelship pack"`);
  const dir = await mkdtemp(path.join(tmpdir(), 'modelship-artifact-'));
  try {
    const wanted = view.files.filter(isFetchedForFacts);
    // Only the chosen layers are fetched: unpackView reads every layer of the view it is given.
    if (wanted.length) await unpackView(target, { ...view, files: wanted }, dir);
    // A ModelCar's documents are read from its model folder, never from the image's root.
    const root = modelRootOf(view);
    const modelDir = root ? path.join(dir, root) : dir;
    // A project of weights and config alone has no document to fetch: its model folder is still there.
    await mkdir(modelDir, { recursive: true });
    return await use({ reference, view, config, spec: specOf(config, reference, modelDir), dir: modelDir, root });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
