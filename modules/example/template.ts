/**
 * `modelship init --template NAME DIR`: a model project (a real tiny model with its cards, report
 * and licence, MOF Class III) plus the template's app, Containerfile, CI workflow and Dagger module,
 * described in a modelship.yaml that requires Class III.
 */
import { execFile } from 'node:child_process';
import { appendFile, cp, lstat, readdir, readFile, readlink, realpath, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ModelshipError } from '../errors/index.js';
import { modelshipVersion, packagePath, packageRoot } from '../fs/package.js';
import { detectProject, MODELSHIP_FILE, MODELSHIP_SCHEMA_FILE, publishedSchemaUrl, renderModelshipYaml } from '../project/index.js';
import { writeExampleProject } from './index.js';
import { writePytorchExample } from './pytorch.js';

export const TEMPLATE_NAMES = ['chat', 'rag', 'agents', 'pytorch'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

/** Files every template gets: the CI workflow and the Dagger module that uses modelship's. */
const COMMON = '_common';
/** Placeholder in template files for the GitHub repository (OWNER/NAME) modelship's actions and Dagger module come from. */
const REPOSITORY_PLACEHOLDER = '{{MODELSHIP_REPOSITORY}}';
/** Placeholder for the release of modelship they are pinned to: the clone's commit, or the version's tag. */
const REF_PLACEHOLDER = '{{MODELSHIP_REF}}';
/** npm leaves .gitignore files out of a published package: templates ship them as "gitignore". */
const GITIGNORE = 'gitignore';
/** What the placeholder becomes when this installation is not a clone of a GitHub repository. */
export const UNKNOWN_REPOSITORY = 'OWNER/modelship';

export interface TemplateProject {
  dir: string;
  template: TemplateName;
  /** OWNER/NAME the workflow and dagger.json take modelship from; UNKNOWN_REPOSITORY to edit by hand. */
  repository: string;
  /** The modelship release they are pinned to: a commit of the clone, or vVERSION. */
  ref: string;
  files: string[];
}

export function templatesDir(): string {
  return path.dirname(packagePath('templates', COMMON));
}

export function isTemplateName(name: string): name is TemplateName {
  return (TEMPLATE_NAMES as readonly string[]).includes(name);
}

/** Copies the template, with the placeholders filled in text files; README.md is merged, not copied. */
async function copyTemplate(from: string, to: string, pin: { repository: string; ref: string }): Promise<void> {
  await cp(from, to, { recursive: true, filter: (src) => path.basename(src) !== 'README.md' || path.dirname(src) !== from });
  for (const rel of await listFiles(from)) {
    if (rel === GITIGNORE) await rename(path.join(to, rel), path.join(to, '.gitignore'));
    if (rel === 'README.md' || !/\.(ya?ml|json|md|mjs|js|ts)$|Containerfile$/.test(rel)) continue;
    const file = path.join(to, rel);
    const text = await readFile(file, 'utf8');
    if (text.includes(REPOSITORY_PLACEHOLDER) || text.includes(REF_PLACEHOLDER)) {
      await writeFile(file, text.replaceAll(REPOSITORY_PLACEHOLDER, pin.repository).replaceAll(REF_PLACEHOLDER, pin.ref));
    }
  }
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else out.push(rel);
  }
  return out;
}

/** A model name from the project's folder: lower case letters, digits, "-", "." and "_". */
export function projectName(dir: string): string {
  return path.basename(path.resolve(dir)).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '') || 'model';
}

export async function createFromTemplate(name: string, dir: string, opts: { repository?: string; ref?: string; git?: boolean; invocation?: readonly string[] } = {}): Promise<TemplateProject> {
  if (!isTemplateName(name)) throw new ModelshipError('USAGE', `unknown template "${name}": choose one of ${TEMPLATE_NAMES.join(', ')}`);
  dir = await followFolderLink(dir);
  const root = templatesDir();
  const clone = await cloneOf(packageRoot());
  const repository = opts.repository ?? clone?.repository ?? UNKNOWN_REPOSITORY;
  const ref = opts.ref ?? clone?.commit ?? `v${modelshipVersion()}`;
  // The model project first: it refuses a folder that is not empty, before anything is written.
  if (name === 'pytorch') await writePytorchExample(dir);
  else await writeExampleProject(dir);
  await copyTemplate(path.join(root, COMMON), dir, { repository, ref });
  await copyTemplate(path.join(root, name), dir, { repository, ref });
  // The template's instructions become the model card's "how to run it" section.
  const usage = await readFile(path.join(root, name, 'README.md'), 'utf8');
  await appendFile(path.join(dir, 'README.md'), `\n## Run it\n${usage.replace(/^# .*\n/, '')}`);
  const detection = await detectProject(dir);
  // Named after its folder: two projects made from one template never pack to the same reference.
  const spec = { ...detection.spec, descriptor: { ...detection.spec.descriptor, name: projectName(dir) }, pipeline: { ...detection.spec.pipeline, mof: { require: 3 as const } } };
  await writeFile(path.join(dir, MODELSHIP_FILE), renderModelshipYaml(spec, { schemaRef: publishedSchemaUrl(MODELSHIP_SCHEMA_FILE) }));
  if (opts.git !== false) await initGit(dir, opts.invocation);
  return { dir, template: name, repository, ref, files: (await listFiles(dir)).filter((f) => !f.startsWith('.git/')).sort() };
}

/** A link to a folder stands for that folder (every step then sees one real path); a dangling link is refused before anything is written. */
async function followFolderLink(dir: string): Promise<string> {
  const info = await lstat(dir).catch(() => undefined);
  if (!info?.isSymbolicLink()) return dir;
  const target = await readlink(dir);
  const resolved = await realpath(dir).catch(() => undefined);
  if (!resolved) throw new ModelshipError('USAGE', `${dir} is a link to ${target}, which does not exist: create that folder first, or give a folder that is not a link`);
  if (!(await stat(resolved)).isDirectory()) throw new ModelshipError('USAGE', `${dir} is a link to ${resolved}, which is not a folder: give a new or empty folder`);
  return resolved;
}

/**
 * The GitHub repository (OWNER/NAME) and commit of the clone this installation runs from, when the
 * package folder is itself the top of a git work tree. Installed under node_modules, the folders
 * above belong to the user's own repository: never read its remote.
 */
export async function cloneOf(packageDir: string): Promise<{ repository?: string; commit: string } | undefined> {
  const run = promisify(execFile);
  const git = (args: string[]) => run('git', ['-C', packageDir, ...args]).then((r) => r.stdout.trim(), () => '');
  const top = await git(['rev-parse', '--show-toplevel']);
  if (!top || (await realpath(top)) !== (await realpath(packageDir))) return undefined;
  const commit = await git(['rev-parse', 'HEAD']);
  if (!/^[0-9a-f]{40}$/.test(commit)) return undefined;
  const repository = /github\.com[:/]([^/]+\/[^/]+?)(?:\.git)?$/.exec(await git(['remote', 'get-url', 'origin']))?.[1];
  return { ...(repository ? { repository } : {}), commit };
}

/** A git repository with the pre-push hook, so the first push already runs the check. */
async function initGit(dir: string, invocation?: readonly string[]): Promise<void> {
  const run = promisify(execFile);
  await run('git', ['init', '-q'], { cwd: dir }).catch((err: unknown) => {
    throw new ModelshipError('INPUT_INVALID', `git init failed in ${dir}: ${String(err)}; pass --no-git to skip it`, { cause: err });
  });
  const { installPrePushHook } = await import('../githooks/index.js');
  await installPrePushHook(dir, invocation ? { invocation } : {});
}
