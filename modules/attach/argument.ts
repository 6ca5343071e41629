/**
 * DIR or REF: the document commands take a project folder or a packed artifact, told apart by
 * whether the argument names an existing folder.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { ModelshipError } from '../errors/index.js';

export type DocumentSource = { folder: string } | { reference: string };

/**
 * A folder when `arg` names one; a reference otherwise, unless it reads as a path that is missing
 * (then an error with `missingCode`, the code the calling command documents).
 */
export function documentSource(cwd: string, arg: string, missingCode = 'SPEC_NOT_FOUND'): DocumentSource {
  const dir = path.resolve(cwd, arg);
  if (existsSync(dir) && statSync(dir).isDirectory()) return { folder: dir };
  if (arg === '.' || arg.startsWith('./') || arg.startsWith('../') || arg.startsWith('/')) {
    throw new ModelshipError(missingCode, `${dir} is not a folder: give a model project folder or a packed reference (NAME:TAG, oci:PATH:TAG or HOST/REPO:TAG)`, { details: { path: dir } });
  }
  return { reference: arg };
}

/** A folder has no artifact to attach to yet; says how to get one. */
export function attachNeedsReference(command: string): string {
  return `--attach needs a packed artifact, not a folder: pack it first ("modelship pack DIR -t NAME:TAG", and push it if it lives in a registry), then run "modelship ${command} REF --attach"`;
}
