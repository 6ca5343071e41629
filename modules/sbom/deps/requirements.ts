/**
 * pip requirements files: pins, ranges, extras, comments, line continuations, `--hash` options
 * and `-r` includes (which must stay inside the project).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ModelshipError } from '../../errors/index.js';
import { isExtraMarker, parsePep508 } from './pep508.js';
import type { DeclaredDependency } from './types.js';

export async function readRequirements(file: string, projectRoot: string, seen: Set<string> = new Set()): Promise<DeclaredDependency[]> {
  const abs = path.resolve(file);
  if (seen.has(abs)) return []; // include cycles are harmless: read each file once
  seen.add(abs);
  const rel = path.relative(projectRoot, abs);
  const text = await readFile(abs, 'utf8').catch((err: unknown) => {
    throw new ModelshipError('SBOM_DEPS_INVALID', `cannot read requirements file ${rel}: ${(err as Error).message}`, { cause: err });
  });
  const out: DeclaredDependency[] = [];
  const lines = joinContinuations(text);
  for (const { line, number } of lines) {
    const content = line.replace(/(^|\s)#.*$/, '').trim();
    if (!content) continue;
    const include = /^(?:-r|--requirement)(?:\s+|=)(\S+)$/.exec(content);
    if (include) {
      const target = path.resolve(path.dirname(abs), include[1]!);
      const inside = path.relative(projectRoot, target);
      if (inside.startsWith('..') || path.isAbsolute(inside)) {
        throw new ModelshipError('SBOM_DEPS_INVALID', `${rel}:${number}: "-r ${include[1]}" points outside the project; copy that file into the project`);
      }
      out.push(...(await readRequirements(target, projectRoot, seen)));
      continue;
    }
    if (content.startsWith('-')) continue; // -c, -e, --index-url and other pip options name no registry package
    const [spec, ...options] = content.split(/\s+(?=--)/);
    const req = parsePep508(spec!);
    if (!req) continue; // URLs and local paths
    const hashes = options
      .map((o) => /^--hash[=\s]sha256:([0-9a-f]{64})$/i.exec(o.trim())?.[1]?.toLowerCase())
      .filter((h): h is string => h !== undefined);
    out.push({
      ecosystem: 'pypi',
      name: req.name,
      range: req.specifier,
      ...(req.pinned ? { version: req.pinned } : {}),
      scope: isExtraMarker(req.marker) ? 'optional' : 'required',
      source: `${rel}:${number}`,
      ...(hashes.length ? { sha256: hashes } : {}),
    });
  }
  return out;
}

function joinContinuations(text: string): { line: string; number: number }[] {
  const out: { line: string; number: number }[] = [];
  let pending: { line: string; number: number } | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const cont = raw.endsWith('\\');
    const piece = cont ? raw.slice(0, -1) : raw;
    pending = pending ? { line: pending.line + ' ' + piece, number: pending.number } : { line: piece, number: i + 1 };
    if (!cont) {
      out.push(pending);
      pending = undefined;
    }
  });
  if (pending) out.push(pending);
  return out;
}
