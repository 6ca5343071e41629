/**
 * Inputs of the pack step's SLSA provenance, gathered from where the pack ran: the project's git
 * commit, the spec file's digest, and which builder this is (laptop, hook, Dagger, GitHub Actions).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { promisify } from 'node:util';
import { ModelshipError, describeError } from '../../errors/index.js';
import { findSpecFile } from '../../project/load.js';
import { buildPackProvenance, type BuilderKind } from '../slsa.js';
import type { InTotoStatement } from '../oms/statement.js';
import type { ManifestSubject } from './statements.js';

const run = promisify(execFile);

export interface ProvenanceOptions {
  /** The model project folder the artifact was packed from. */
  projectDir: string;
  /** The spec file used; found in projectDir when absent. */
  specFile?: string;
  env: NodeJS.ProcessEnv;
  builderVersion?: string;
}

/** GITHUB_ACTIONS wins; MODELSHIP_BUILDER=hook|dagger names the others; anything else is a laptop. */
export function builderFromEnvironment(env: NodeJS.ProcessEnv): { kind: BuilderKind; id?: string } {
  if (env['GITHUB_ACTIONS'] === 'true') {
    const workflow = env['GITHUB_WORKFLOW_REF'];
    const server = env['GITHUB_SERVER_URL'] ?? 'https://github.com';
    return { kind: 'github-actions', ...(workflow ? { id: `${server}/${workflow}` } : {}) };
  }
  const named = env['MODELSHIP_BUILDER'];
  if (named === 'hook' || named === 'dagger') return { kind: named };
  return { kind: 'laptop' };
}

/** The commit and remote of the project's git checkout, or undefined outside one. */
async function gitSource(dir: string): Promise<{ uri: string; commit: string } | undefined> {
  const git = (args: string[]) => run('git', args, { cwd: dir }).then((r) => r.stdout.trim());
  const commit = await git(['rev-parse', 'HEAD']).catch(() => undefined);
  if (!commit) return undefined;
  const remote = await git(['config', '--get', 'remote.origin.url']).catch(() => '');
  return { uri: remote || `file://${await git(['rev-parse', '--show-toplevel']).catch(() => dir)}`, commit };
}

async function specFileDigest(opts: ProvenanceOptions): Promise<{ path: string; sha256: string } | undefined> {
  const file = opts.specFile ?? (await findSpecFile(opts.projectDir))?.file;
  if (!file) return undefined;
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new ModelshipError('INPUT_INVALID', `cannot read the spec file ${file} for the provenance: ${describeError(err)}`, { cause: err });
  }
  return { path: relative(opts.projectDir, file) || file, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** SLSA v1 provenance of packing `subject` from the project at `opts.projectDir`. */
export async function packProvenanceStatement(subject: ManifestSubject, opts: ProvenanceOptions): Promise<InTotoStatement> {
  const builder = builderFromEnvironment(opts.env);
  const [source, specFile] = await Promise.all([gitSource(opts.projectDir), specFileDigest(opts)]);
  const runId = opts.env['GITHUB_RUN_ID'];
  return buildPackProvenance({
    subjects: [subject],
    builder: builder.kind,
    ...(builder.id ? { builderId: builder.id } : {}),
    ...(opts.builderVersion ? { builderVersion: opts.builderVersion } : {}),
    ...(source ? { source } : {}),
    ...(specFile ? { specFile } : {}),
    ...(runId ? { invocationId: runId } : {}),
  });
}
