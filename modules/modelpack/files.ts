/**
 * The files a spec names, resolved on disk: paths, directories and globs relative to the context
 * directory, minus ignored ones, each claimed by the most specific entry (as KitOps does when paths
 * intersect), sorted by path so every machine packs them in the same order.
 */
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ModelshipError } from '../errors/index.js';
import { escapesFolder } from '../fs/inside.js';
import { describePath } from '../fs/kind.js';
import type { FileKind, ModelSpec, SpecFileEntry } from '../project/model-spec.js';
import { normalizeSpecPath, specPathMatcher, specPathSpecificity } from '../project/paths.js';
import { hasGlob, ignoreDialectOf, isIgnored, parsePatterns } from '../project/ignore.js';

export interface ResolvedFile {
  /** `/`-separated path relative to the context directory. */
  path: string;
  absPath: string;
  kind: FileKind;
  /** Index of the spec entry that claimed the file. */
  entry: number;
  size: number;
  mode: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

/** A symbolic link inside the project whose target, every link resolved, lies outside it. */
interface OutsideLink {
  target: string;
}

/** Never packed: version control and the files that describe the package itself. */
const ALWAYS_SKIPPED = ['.git', '.modelship', '.kitignore', '.modelshipignore', '.dockerignore'];

type Candidate = Omit<ResolvedFile, 'kind' | 'entry'> & { outside?: OutsideLink };

async function walk(root: string, realRoot: string, rel: string, out: Candidate[]): Promise<void> {
  const entries = await readdir(join(root, rel), { withFileTypes: true });
  for (const entry of entries) {
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    if (!rel && ALWAYS_SKIPPED.includes(entry.name)) continue;
    const abs = join(root, path);
    if (entry.isDirectory()) {
      await walk(root, realRoot, path, out);
      continue;
    }
    // Symlinked files are packed as the file they point to; symlinked directories are not followed (no loops).
    const info = entry.isSymbolicLink() ? await stat(abs).catch(() => undefined) : await lstat(abs);
    if (!info || !info.isFile()) continue;
    // A link out of the project is only an error if something packs it, so it is remembered, not refused here.
    const target = entry.isSymbolicLink() ? await escapesFolder(realRoot, abs) : undefined;
    out.push({ path, absPath: abs, size: info.size, mode: info.mode, mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs, ino: info.ino, ...(target ? { outside: { target } } : {}) });
  }
}

interface Matcher {
  entry: SpecFileEntry;
  order: number;
  /** Higher wins: an exact file beats a deeper directory beats a shallower one beats a glob. */
  specificity: number;
  test(path: string): boolean;
}

function matcherFor(entry: SpecFileEntry, order: number, where: string): Matcher {
  const normal = normalizeSpecPath(entry.path);
  if ('error' in normal) throw new ModelshipError('SPEC_INVALID', `${where}: path ${normal.error}`, { details: { path: entry.path } });
  return { entry, order, specificity: specPathSpecificity(normal.path), test: specPathMatcher(normal.path) };
}

/** Every file the spec packs, sorted by path (code-point order). */
export async function resolveSpecFiles(spec: ModelSpec): Promise<ResolvedFile[]> {
  const where = spec.source.file ?? spec.contextDir;
  const root = spec.contextDir;
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw new ModelshipError('SPEC_NOT_FOUND', `model folder ${root} does not exist or is not a directory`, { details: { path: root } });
  const candidates: Candidate[] = [];
  await walk(root, await realpath(root), '', candidates);
  const dialect = ignoreDialectOf(spec);
  const ignore = parsePatterns(spec.ignore, dialect);
  const specFile = spec.source.file ? basename(spec.source.file) : undefined;
  const matchers = spec.files.map((entry, i) => matcherFor(entry, i, `${where} files[${i}]`));
  const resolved: ResolvedFile[] = [];
  const matchedCount = new Array<number>(matchers.length).fill(0);
  for (const c of candidates) {
    if (c.path === specFile || isIgnored(ignore, c.path, dialect)) continue;
    let best: Matcher | undefined;
    for (const m of matchers) {
      if (!m.test(c.path)) continue;
      if (!best || m.specificity > best.specificity) best = m;
    }
    if (!best) continue;
    if (c.outside) {
      throw new ModelshipError(
        'SPEC_LINK_OUTSIDE',
        `${where}: files[${best.order}] ("${best.entry.path}") takes ${c.path}, a symbolic link to ${c.outside.target}, outside the project folder ${root}; ` +
          'packing it would publish that file. Copy the file into the project, or remove the link (or ignore it in .modelshipignore)',
        { details: { link: c.path, target: c.outside.target, contextDir: root } },
      );
    }
    matchedCount[best.order]!++;
    const { outside: _inside, ...file } = c;
    resolved.push({ ...file, kind: best.entry.kind, entry: best.order });
  }
  // A specific file that is missing is a mistake worth stopping for; an empty directory or glob is not.
  for (const [i, m] of matchers.entries()) {
    const p = normalizeSpecPath(m.entry.path);
    if (matchedCount[i] !== 0 || !('path' in p) || hasGlob(p.path) || p.path === '.' || candidates.some((c) => c.path === p.path || c.path.startsWith(`${p.path}/`))) continue;
    const what = await describePath(join(root, p.path));
    const problem = !what
      ? `does not exist under ${root}; fix the path or create the file`
      : what.text === 'a symbolic link to a folder'
        ? `is ${what.text}; linked folders are not followed: name the real folder, inside the project`
        : what.info?.isFile() || what.info?.isDirectory()
        ? `is ${what.text} reached through a linked or skipped folder (${ALWAYS_SKIPPED.join(', ')}), which are not packed: name its real path in the project`
        : `is ${what.text}; only regular files, folders and links to files are packed: name the file itself`;
    throw new ModelshipError('SPEC_INVALID', `${where}: files[${i}] path "${m.entry.path}" ${problem}`, {
      details: { path: m.entry.path, contextDir: root, ...(what ? { kind: what.text } : {}) },
    });
  }
  return resolved.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
