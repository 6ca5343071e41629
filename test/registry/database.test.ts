import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ModelRegistryClient,
  embeddedDatabasePath,
  openRegistryDatabase,
  registerModelVersion,
  startRegistryServer,
  type RegisterInput,
  type RegistryDatabase,
} from '../../modules/registry/index.js';

const repoRoot = path.join(import.meta.dirname, '..', '..');
const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
const fixture = path.join(import.meta.dirname, 'writer.fixture.ts');

/** The same input writer.fixture.ts registers for `${prefix}-${i}`. */
function fixtureInput(prefix: string, i: number): RegisterInput {
  const digest = `sha256:${i.toString(16).padStart(64, '0')}`;
  return { name: `${prefix}-${i}`, version: 'v1', digest, uri: `oci://registry.example.com/team/${prefix}-${i}@${digest}`, modelFormatName: 'gguf', properties: { 'mof.class': '3' } };
}

interface Writer {
  lines: string[];
  exited: Promise<number | null>;
  kill(): void;
  /** Resolves once `n` registrations are reported done. */
  reached(n: number): Promise<void>;
}

function startWriter(dbPath: string, prefix: string, count: number): Writer {
  const child = spawn(tsx, [fixture, dbPath, prefix, String(count)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  let buffered = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters.filter((w) => lines.length >= w.n)) w.resolve();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    lines,
    exited: exited.then((code) => {
      if (code !== 0 && code !== null) throw new Error(`writer exited ${code}: ${stderr}`);
      return code;
    }),
    kill: () => child.kill('SIGKILL'),
    reached: (n) =>
      new Promise<void>((resolve, reject) => {
        if (lines.length >= n) return resolve();
        waiters.push({ n, resolve });
        void exited.then(() => (lines.length >= n ? resolve() : reject(new Error(`writer stopped after ${lines.length} registrations: ${stderr}`))));
      }),
  };
}

let dir: string;
let dbPath: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mreg-db-'));
  dbPath = embeddedDatabasePath(dir);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function counts(db: RegistryDatabase, prefix: string) {
  const models = db.list('registered-model', { pageSize: 1000 }).items.filter((m) => String(m['name']).startsWith(`${prefix}-`));
  const versions = db.list('model-version', { pageSize: 1000 }).items;
  return { models, versions };
}

describe('embedded model registry database', () => {
  it.runIf(process.platform === 'linux')('loads the native SQLite module only when a database is opened', async () => {
    const { execFile } = await import('node:child_process');
    const run = (args: string[]) =>
      new Promise<{ afterImport: boolean; afterOpen: boolean }>((resolve, reject) =>
        execFile(tsx, [path.join(import.meta.dirname, 'native-loaded.fixture.ts'), ...args], { cwd: repoRoot }, (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout)))),
      );
    expect(await run([])).toEqual({ afterImport: false, afterOpen: false });
    expect(await run([dbPath])).toEqual({ afterImport: false, afterOpen: true });
  });

  it('survives kill -9 mid-write: the file checks out, finished registrations are whole, and a rerun completes the rest', async () => {
    const writer = startWriter(dbPath, 'killed', 100_000);
    await writer.reached(25);
    writer.kill();
    await writer.exited;
    const done = writer.lines.map((l) => l.split(' '));
    const db = await openRegistryDatabase(dbPath);
    try {
      expect(db.integrityCheck()).toBe('ok');
      for (const [, i, modelId, versionId, artifactId] of done) {
        expect(db.get('registered-model', Number(modelId))['name']).toBe(`killed-${i}`);
        expect(db.get('model-version', Number(versionId))['registeredModelId']).toBe(modelId);
        expect(db.get('model-artifact', Number(artifactId))['uri']).toBe(fixtureInput('killed', Number(i)).uri);
      }
      // The registration the kill interrupted (if it got that far) and the next: rerunning finishes them, and again creates nothing.
      const next = done.length;
      for (const i of [next, next + 1]) {
        const first = await registerModelVersion(db, fixtureInput('killed', i));
        const again = await registerModelVersion(db, fixtureInput('killed', i));
        expect(again.created).toEqual({ registeredModel: false, modelVersion: false, modelArtifact: false });
        expect(again.modelArtifactId).toBe(first.modelArtifactId);
      }
      // Whatever the kill left, no name is there twice.
      const { models } = await counts(db, 'killed');
      expect(new Set(models.map((m) => m['name'])).size).toBe(models.length);
    } finally {
      db.close();
    }
  });

  it('stays consistent with a server and a CLI process writing the same models at once', async () => {
    const db = await openRegistryDatabase(dbPath);
    const server = await startRegistryServer({ database: db });
    try {
      const client = new ModelRegistryClient(server.url, { backoffMs: 10 });
      const count = 30;
      const writer = startWriter(dbPath, 'shared', count);
      // The CLI goes up from 0 while the server goes down from the top: they meet and race on the same names.
      await writer.reached(1);
      const viaServer = new Map<number, string>();
      for (let i = count - 1; i >= 0; i--) {
        const r = await registerModelVersion(client, fixtureInput('shared', i));
        viaServer.set(i, `${r.registeredModelId} ${r.modelVersionId} ${r.modelArtifactId}`);
      }
      await writer.exited;
      const viaCli = new Map(writer.lines.map((l) => l.split(' ')).map(([, i, ...ids]) => [Number(i), ids.join(' ')] as const));
      expect(viaCli).toEqual(viaServer);
      const { models, versions } = await counts(db, 'shared');
      expect(models).toHaveLength(count);
      const modelIds = new Set(models.map((m) => m['id']));
      const sharedVersions = versions.filter((v) => modelIds.has(v['registeredModelId']));
      expect(sharedVersions).toHaveLength(count);
      const versionIds = new Set(sharedVersions.map((v) => v['id']));
      for (const id of versionIds) expect(db.list('model-artifact', {}, Number(id)).items).toHaveLength(1);
      expect(db.integrityCheck()).toBe('ok');
    } finally {
      await server.close();
      db.close();
    }
  });
});
