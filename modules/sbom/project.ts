/**
 * An SbomInput from a project folder that has not been packed yet. Packed artifacts carry their
 * digests in the manifest; here, with no manifest, each file is hashed once while streaming.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ModelshipError } from '../errors/index.js';
import { requireInsideProject } from '../fs/inside.js';
import { listProjectFiles, specEntryMatcher } from '../project/index.js';
import { readDependencies } from './deps/index.js';
import { readEvaluationFile } from './evaluation.js';
import type { EvaluationResult, SbomFile, SbomInput, SbomSpec } from './input.js';
import { readReadme } from './model-card.js';

export interface ProjectInputOptions {
  /** Files already hashed (e.g. by packing), by path: they are not read again. */
  known?: readonly SbomFile[];
  timestamp?: string;
}

/** Reads the folder's files (per the spec's entries), README, evaluation results and dependency files. */
export async function sbomInputFromProject(dir: string, spec: SbomSpec, options: ProjectInputOptions = {}): Promise<SbomInput> {
  const root = path.resolve(dir);
  if (!existsSync(root)) throw new ModelshipError('SBOM_INVALID', `${dir} does not exist: give the model project folder`);
  const entryFor = specEntryMatcher(spec.files);
  const known = new Map((options.known ?? []).map((f) => [f.path, f]));
  const files: SbomFile[] = [];
  for (const { path: rel, kind: named } of await listProjectFiles(root, spec.ignore ?? [])) {
    // The spec's entries decide; a spec that lists nothing leaves it to the file names.
    const kind = spec.files.length ? entryFor(rel)?.kind : named;
    if (!kind) continue;
    const done = known.get(rel);
    if (done) {
      files.push(done);
      continue;
    }
    const abs = path.join(root, rel);
    files.push({ path: rel, kind, size: (await stat(abs)).size, sha256: await sha256File(abs) });
  }
  const listed = new Set(files.map((f) => f.path));
  for (const f of known.values()) if (!listed.has(f.path)) files.push(f);
  const input: SbomInput = { spec, files: files.sort((a, b) => (a.path < b.path ? -1 : 1)) };
  const readme = ['README.md', 'readme.md', 'README.markdown'].map((n) => path.join(root, n)).find(existsSync);
  let evaluation: EvaluationResult[] = [];
  if (readme) {
    await requireInsideProject(root, readme, path.basename(readme));
    const facts = readReadme(await readFile(readme, 'utf8'), path.relative(root, readme));
    if (Object.keys(facts.card).length) input.modelCard = facts.card;
    evaluation = facts.evaluation;
  }
  const evalFile = await readEvaluationFile(root);
  const results = evalFile?.results ?? evaluation;
  if (results.length) input.evaluation = results;
  const codeDirs = spec.files.filter((e) => e.kind === 'code' && !/[*?]/.test(e.path)).map((e) => e.path);
  const dependencies = await readDependencies(root, codeDirs);
  if (dependencies.length) input.dependencies = dependencies;
  if (options.timestamp) input.timestamp = options.timestamp;
  return input;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}
