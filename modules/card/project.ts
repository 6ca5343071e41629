/**
 * A project folder read once for the card and MOF steps: its spec (when a loader is given and
 * the folder has one), the facts, the MOF derivation and any evaluation results.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ModelshipError } from '../errors/index.js';
import type { ModelSpec } from '../project/model-spec.js';
import { fromModelIndex, isEvalResultsFile, parseEvalResults, type EvalResult } from './card/eval-results.js';
import { deriveMof, type MofDerivation } from './mof/derive.js';
import { scanProject, type ProjectFacts } from './mof/facts.js';

export type SpecLoader = (dir: string) => Promise<ModelSpec | undefined>;

export interface ProjectView {
  dir: string;
  spec?: ModelSpec;
  facts: ProjectFacts;
  mof: MofDerivation;
  evalResults?: EvalResult[];
  evalFile?: string;
}

export interface ReadProjectOptions {
  spec?: ModelSpec;
  loadSpec?: SpecLoader;
  /** Release date written into the MOT YAML (YYYY-MM-DD); today by default. */
  date?: string;
}

export async function readProject(dir: string, opts: ReadProjectOptions = {}): Promise<ProjectView> {
  const root = path.resolve(dir);
  const st = await stat(root).catch(() => undefined);
  if (!st?.isDirectory()) throw new ModelshipError('SPEC_NOT_FOUND', `${root} is not a folder: give the project folder that holds the model`);
  const spec = opts.spec ?? (opts.loadSpec ? await opts.loadSpec(root) : undefined);
  const facts = await scanProject(root, spec);
  const view: ProjectView = { dir: root, facts, mof: deriveMof(facts, opts.date ? { date: opts.date } : {}) };
  if (spec) view.spec = spec;
  const evalFile = facts.files.find((f) => isEvalResultsFile(f.path));
  if (evalFile) {
    view.evalResults = parseEvalResults(await readFile(path.join(root, evalFile.path), 'utf8'), evalFile.path);
    view.evalFile = evalFile.path;
  } else if (facts.frontMatter?.['model-index']) {
    view.evalResults = fromModelIndex(facts.frontMatter['model-index']);
    view.evalFile = 'README.md';
  }
  return view;
}
