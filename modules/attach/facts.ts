/**
 * The card and MOF view of a packed model: the same ProjectView a folder gives, with the file list
 * and kinds taken from the manifest and the licences from the ModelPack config.
 */
import { deriveMof, readProject, type ProjectFile, type ProjectView } from '../card/index.js';
import { unpackedSize, type ArtifactFile } from '../modelpack/index.js';
import { ANNOTATION_SOURCE } from '../sbom/artifact.js';
import { modelFilesOf, type ArtifactProject } from './artifact.js';

/** The file's own size: packing records it in the layer's file metadata; a raw layer is the file. */
function fileSize(file: ArtifactFile): number {
  return unpackedSize(file) ?? file.size;
}

/** The release date of a packed model: its createdAt when packing recorded one. */
function createdDate(project: ArtifactProject): string | undefined {
  const at = project.config.descriptor.createdAt;
  return at && /^\d{4}-\d{2}-\d{2}/.test(at) ? at.slice(0, 10) : undefined;
}

/**
 * Facts, MOF derivation and evaluation results for the artifact. `date` pins the MOT release date;
 * by default it is the artifact's createdAt, else today.
 */
export async function projectViewOfArtifact(project: ArtifactProject, opts: { date?: string } = {}): Promise<ProjectView> {
  const date = opts.date ?? createdDate(project);
  // The scratch folder holds the fetched documents: README front matter, LICENSE texts, eval results.
  const view = await readProject(project.dir, { spec: project.spec, ...(date ? { date } : {}) });
  const scanned = new Map(view.facts.files.map((f) => [f.path, f]));
  // A folder layer counts as the files it lists, as the same project packed one file per layer would.
  const files: ProjectFile[] = project.view.files.flatMap((file) =>
    modelFilesOf(project, file).map((m) => ({ ...scanned.get(m.path), path: m.path, size: m.size ?? fileSize(file), kind: file.kind })),
  );
  const source = project.view.manifest.annotations?.[ANNOTATION_SOURCE];
  const facts = { ...view.facts, files, ...(source ? { source } : {}) };
  if (project.config.descriptor.licenses?.length) facts.licensesSource = `${project.reference} ModelPack config descriptor.licenses`;
  return { ...view, facts, mof: deriveMof(facts, date ? { date } : {}) };
}
