/**
 * The real tools that judge our output (test/judges/judges.tsv), built by scripts/build-judges.sh into
 * a versioned cache. A missing judge fails the test with the command that builds it: never a skip.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';

export interface Judge {
  name: string;
  version: string;
  how: string;
  package: string;
  binary: string;
}

const tablePath = resolve(import.meta.dirname, '..', 'judges', 'judges.tsv');
const requirementsPath = resolve(import.meta.dirname, '..', 'judges', 'requirements.txt');

export function judges(): Judge[] {
  return readFileSync(tablePath, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => {
      const [name, version, how, pkg, binary] = line.split('\t');
      return { name, version, how, package: pkg, binary };
    });
}

export function peersDir(): string {
  return process.env.MODELSHIP_PEERS ?? join(homedir(), '.cache', 'modelship-peers');
}

/** The one virtual environment of the Python judges, named by the hash of their pinned requirements. */
export function pythonJudgesDir(): string {
  const sha = createHash('sha256').update(readFileSync(requirementsPath)).digest('hex').slice(0, 16);
  return join(peersDir(), `python-${sha}`);
}

/** A go-local judge's folder: its pin and the hash of the module's files, as scripts/build-judges.sh local_hash names it. */
function goLocalDir(judge: Judge): string {
  const folder = resolve(import.meta.dirname, '..', '..', judge.package);
  const files = readdirSync(folder, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name).sort();
  const hash = createHash('sha256');
  for (const file of files) hash.update(readFileSync(join(folder, file)));
  return join(peersDir(), `${judge.name}-${judge.version}-${hash.digest('hex').slice(0, 16)}`);
}

/** Absolute path of a judge's binary; throws with the build command when it is not built. */
export function judgePath(name: string): string {
  const judge = judges().find((j) => j.name === name);
  if (!judge) throw new Error(`no judge named ${name} in test/judges/judges.tsv`);
  const path =
    judge.how === 'pip'
      ? join(pythonJudgesDir(), 'bin', judge.binary)
      : judge.how === 'go-local'
        ? join(goLocalDir(judge), 'bin', judge.binary)
        : join(peersDir(), `${judge.name}-${judge.version}`, 'bin', judge.binary);
  const complete = judge.how !== 'pip' || existsSync(join(pythonJudgesDir(), '.complete'));
  if (!existsSync(path) || !complete) {
    throw new Error(`judge ${name} ${judge.version} is not built: run \`bash scripts/build-judges.sh ${name}\``);
  }
  return path;
}

export interface JudgeRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Both streams, for a failure message that shows what the judge said. */
  output: string;
}

/** Runs a judge to completion; never throws on a non-zero exit, so a test reads both verdicts alike. */
export async function runJudge(name: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<JudgeRun> {
  const result = await execa(judgePath(name), args, {
    reject: false,
    all: true,
    cwd: options.cwd,
    env: { HOME: process.env.HOME, PATH: process.env.PATH, ...options.env },
    extendEnv: false,
    timeout: options.timeoutMs ?? 120_000,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr), output: String(result.all) };
}

/** Per-test limit for the judge tests: each runs real tools, several of them Python or Go processes, on a shared 2-core machine. */
export const JUDGE_TEST_TIMEOUT = 300_000;
