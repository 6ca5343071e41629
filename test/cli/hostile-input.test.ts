/** Hostile or odd input reaching the command line: one clear line each, the documented exit status, nothing half-done. */
import { execFileSync, spawn } from 'node:child_process';
import { lstat, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { handmadeArtifact } from '../helpers/hostile-artifact.js';

const tempDir = (prefix = 'modelship-hostile-') => mkdtemp(join(tmpdir(), prefix));
const SPEC = 'name: tiny\nweights: [model.gguf]\n';

async function project(spec = SPEC): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = await tempDir();
  await writeFile(join(dir, 'model.gguf'), 'GGUF weights');
  await writeFile(join(dir, 'modelship.yaml'), spec);
  const home = await tempDir('modelship-home-');
  return { dir, env: { MODELSHIP_HOME: home } };
}

/** A ModelPack artifact with these raw layers and this config text, tagged `bad` in a fresh layout; returns its folder. */
async function artifact(layers: { path: string; bytes: Uint8Array }[], configText?: string): Promise<string> {
  const store = await handmadeArtifact(layers.map((l) => ({ mediaType: 'application/vnd.cncf.model.weight.v1.raw', bytes: l.bytes, annotations: { 'org.cncf.model.filepath': l.path } })), configText);
  return store.location;
}

/** One line on stderr, no stack, no "internal error". */
function expectOneLine(stderr: string): void {
  expect(stderr).not.toMatch(/internal error|    at /);
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
}

describe('references given to pack and tag', () => {
  it('a tag and a digest in -t is refused, not stored as the digest', async () => {
    const { dir, env } = await project();
    const run = await runCli(['pack', dir, '-t', `x:tag@sha256:${'0'.repeat(64)}`, '--json'], { env, cwd: dir });
    expect(run.code).toBe(2);
    expect(run.json().error.message).toContain('names a digest');
    const tag = await runCli(['tag', 'x:tag', `y:1@sha256:${'0'.repeat(64)}`], { env, cwd: dir });
    expect(tag.code).toBe(2);
    expect(tag.stderr).toContain('DST "y:1@sha256:');
  });

  it('several -t tag the artifact under each', async () => {
    const { dir, env } = await project();
    const run = await runCli(['pack', dir, '-t', 'a:1', '-t', 'b:2', '--json'], { env, cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json().references).toEqual(['a:1', 'b:2']);
    for (const ref of ['a:1', 'b:2']) {
      const inspect = await runCli(['inspect', ref, '--json'], { env, cwd: dir });
      expect(inspect.code, inspect.stderr).toBe(0);
      expect(inspect.json().digest).toBe(run.json().digest);
    }
  });

  it('a registry port outside 1-65535 is a usage error when parsing, not a crash at push', async () => {
    const { dir, env } = await project();
    for (const args of [['pack', dir, '-t', '127.0.0.1:99999/x:v1'], ['tag', 'a:1', '127.0.0.1:99999/x:v1'], ['push', '127.0.0.1:99999/x:v1']]) {
      const run = await runCli(args, { env, cwd: dir });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain('port 99999 is outside 1-65535');
    }
  });
});

describe('terminal escapes from an artifact are shown, not obeyed', () => {
  it('inspect prints a hostile filepath escaped, and unpack refuses it with an escaped message', async () => {
    const layout = await artifact([{ path: '\x1b[2J\x1b[HFAKE OK', bytes: new TextEncoder().encode('w') }]);
    const inspect = await runCli(['inspect', `oci:${layout}:bad`]);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout).not.toContain('\x1b');
    expect(inspect.stdout).toContain('\\x1b[2J\\x1b[HFAKE OK');
    const out = join(await tempDir(), 'out');
    const unpack = await runCli(['unpack', `oci:${layout}:bad`, '-d', out]);
    expect(unpack.code).toBe(7);
    expect(unpack.stderr).not.toContain('\x1b');
    expect(unpack.stderr).toContain('contains control characters');
    expect(await lstat(out).catch(() => undefined)).toBeUndefined();
  });
});

describe('resource exhaustion in specs and configs', () => {
  it('a YAML alias bomb in modelship.yaml', async () => {
    const rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [name, prev] of [['b', 'a'], ['c', 'b'], ['d', 'c'], ['e', 'd'], ['f', 'e']]) rows.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    const { dir, env } = await project(`${rows.join('\n')}\nname: tiny\nweights: [model.gguf]\n`);
    const run = await runCli(['pack', dir, '-t', 'bomb:v1', '--json'], { env, cwd: dir });
    expect(run.code).toBe(3);
    expect(run.json().error.code).toBe('SPEC_INVALID');
    expect(run.stderr).toContain('modelship.yaml: not a usable modelship.yaml: Excessive alias count');
    expectOneLine(run.stderr);
  });

  it('a config nested 200,000 deep, for unpack, sbom and serve', async () => {
    const w = new TextEncoder().encode('w');
    const config = `{"descriptor":{},"config":{},"modelfs":{"type":"layers","diffIds":[]},"x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    const layout = await artifact([{ path: 'w.bin', bytes: w }], config);
    const unpack = await runCli(['unpack', `oci:${layout}:bad`, '-d', join(await tempDir(), 'out')]);
    expect(unpack.code, unpack.stderr).toBe(3);
    expect(unpack.stderr).toContain('nests arrays or objects more than 256 deep');
    expectOneLine(unpack.stderr);
    const sbom = await runCli(['sbom', `oci:${layout}:bad`]);
    expect(sbom.code, sbom.stderr).toBe(3);
    expect(sbom.stderr).toContain('more than 256 deep');
    expectOneLine(sbom.stderr);
    const serve = await runCli(['serve', `oci:${layout}:bad`, '--port', '0'], { env: { MODELSHIP_HOME: await tempDir('modelship-home-') } });
    expect(serve.code, serve.stderr).toBe(3);
    expect(serve.stderr).toContain('more than 256 deep');
    expectOneLine(serve.stderr);
  });
});

/** A 1 MiB tmpfs, when this user may mount one (root in a container); removed after `use`. */
async function withTinyDisk(use: (dir: string) => Promise<void>): Promise<boolean> {
  const dir = await tempDir('modelship-tmpfs-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return false;
  }
  try {
    await use(dir);
  } finally {
    execFileSync('umount', [dir]);
  }
  return true;
}

describe('a full disk', () => {
  it('pack into a store on a full disk says so in one line', async (ctx) => {
    const { dir } = await project();
    await writeFile(join(dir, 'model.gguf'), Buffer.alloc(3 * 1024 * 1024, 7));
    const ran = await withTinyDisk(async (disk) => {
      const run = await runCli(['pack', dir, '-t', 'big:v1', '--json'], { env: { MODELSHIP_HOME: disk }, cwd: dir });
      expect(run.code).toBe(1);
      expect(run.json().error.code).toBe('DISK_FULL');
      expect(run.stderr).toMatch(/^error: no space left on the device writing \S+: free some space/);
      expect(run.json().error.details.path.startsWith(`${disk}/`)).toBe(true);
      // What the failed pack wrote is gone again: only the empty store's own files remain.
      expect((await readdir(join(disk, 'store'), { recursive: true })).filter((f) => !['index.json', 'oci-layout', 'ingest', 'blobs', 'blobs/sha256'].includes(f))).toEqual([]);
      expectOneLine(run.stderr);
    });
    // Mounting needs root (as CI has): elsewhere the test reports itself skipped, never passed.
    if (!ran) ctx.skip('cannot mount a tmpfs here');
  });
});

describe('paths that are not what they should be', () => {
  it('-f naming a folder, a FIFO or a link to a device says what it is', async () => {
    const { dir, env } = await project();
    await mkdir(join(dir, 'specdir'));
    execFileSync('mkfifo', [join(dir, 'spec.fifo')]);
    await symlink('/dev/null', join(dir, 'null.yaml'));
    for (const [name, what] of [['specdir', 'is a folder'], ['spec.fifo', 'is a FIFO (named pipe)'], ['null.yaml', 'is a symbolic link to a character device']] as const) {
      const run = await runCli(['pack', dir, '-f', name, '-t', 'x:1'], { env, cwd: dir });
      expect(run.code, run.stderr).toBe(3);
      expect(run.stderr).toContain(`${join(dir, name)} ${what}, not a regular file`);
    }
  });

  it('modelship.yaml that is a folder, and a files entry that is a FIFO', async () => {
    const { dir, env } = await project();
    execFileSync('mkfifo', [join(dir, 'weights.bin')]);
    await writeFile(join(dir, 'modelship.yaml'), 'name: tiny\nweights: [weights.bin]\n');
    const fifo = await runCli(['pack', dir, '-t', 'x:1'], { env, cwd: dir });
    expect(fifo.code).toBe(3);
    expect(fifo.stderr).toContain('path "weights.bin" is a FIFO (named pipe); only regular files');
    const other = await tempDir();
    await mkdir(join(other, 'modelship.yaml'));
    const folder = await runCli(['pack', other, '-t', 'x:1'], { env, cwd: other });
    expect(folder.code).toBe(3);
    expect(folder.stderr).toContain('modelship.yaml is a folder, not a regular file');
  });

  it('sbom -o prints the path as given and writes into a FIFO without replacing it', async () => {
    const { dir, env } = await project();
    execFileSync('mkfifo', [join(dir, 'sbom.fifo')]);
    const reader = spawn('cat', [join(dir, 'sbom.fifo')]);
    const chunks: Buffer[] = [];
    reader.stdout.on('data', (c: Buffer) => chunks.push(c));
    const read = new Promise((resolve) => reader.once('close', resolve));
    try {
      const run = await runCli(['sbom', dir, '-o', 'sbom.fifo'], { env, cwd: dir });
      expect(run.code, run.stderr).toBe(0);
      await read;
      expect(run.stdout).toMatch(/^wrote sbom\.fifo \(/);
    } finally {
      if (reader.exitCode === null) reader.kill();
    }
    expect((await lstat(join(dir, 'sbom.fifo'))).isFIFO()).toBe(true);
    expect(JSON.parse(Buffer.concat(chunks).toString('utf8')).bomFormat).toBe('CycloneDX');
  });
});

describe('inspect tells how large compressed layers unpack', () => {
  it('shows the unpacked size next to the stored one, in text and JSON', async () => {
    const { dir, env } = await project('name: tiny\nweights: [model.gguf]\ndocs: [README.md]\n');
    await writeFile(join(dir, 'README.md'), 'all work and no play\n'.repeat(10_000));
    const packed = await runCli(['pack', dir, '-t', 'gz:v1', '--layer-format', 'tar+gzip'], { env, cwd: dir });
    expect(packed.code, packed.stderr).toBe(0);
    const text = await runCli(['inspect', 'gz:v1'], { env: { ...env, CI: '1' }, cwd: dir });
    // The file's path comes from the layer's annotation (the tar itself unpacks at the root).
    expect(text.stdout).toMatch(/doc +\d+ B  README\.md  \(tar\+gzip, 205\.1 KiB unpacked\)/);
    const json = (await runCli(['inspect', 'gz:v1', '--json'], { env, cwd: dir })).json();
    const readme = json.model.files.find((f: { kind: string }) => f.kind === 'doc');
    expect(readme.unpackedSize).toBe(210_000);
    expect(readme.size).toBeLessThan(2_000);
  });
});
