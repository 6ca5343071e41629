/**
 * Documents on the artifact, end to end through the CLI: a real project packed into a real store,
 * pushed to the loopback docker-registry (no referrers API: the tag fallback) and copied to an OCI
 * layout (referrers kept in index.json: the API path), then SBOMs, cards and the MOF report attached,
 * discovered, pulled and copied along.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { main } from '../../modules/cli/main.js';
import {
  fetchManifest,
  LayoutTarget,
  openReference,
  readAllVerified,
  referrersTagOf,
  type Descriptor,
  type ImageManifest,
  type ReadOnlyTarget,
} from '../../modules/oci/index.js';
import { validateCycloneDx, validateSpdx } from '../../modules/sbom/index.js';
import { makeProject } from '../card/projects.js';

const CYCLONEDX = 'application/vnd.cyclonedx+json';
const SPDX = 'application/spdx+json';
const MOF_REPORT = 'application/vnd.modelship.mof.report.v1+json';
const MODEL_CARD = 'application/vnd.modelship.card.model.v1+markdown';
const DATA_CARD = 'application/vnd.modelship.card.data.v1+markdown';
const ALL_TYPES = [CYCLONEDX, DATA_CARD, MODEL_CARD, MOF_REPORT, SPDX].sort();

interface Ran {
  status: number;
  stdout: string;
  stderr: string;
}

async function run(args: string[], cwd: string, home: string): Promise<Ran> {
  const out = new PassThrough();
  const err = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  out.on('data', (c: Buffer) => o.push(c));
  err.on('data', (c: Buffer) => e.push(c));
  const status = await main(args, { cwd, stdout: out, stderr: err, env: { CI: '1', MODELSHIP_HOME: home } });
  return { status, stdout: Buffer.concat(o).toString(), stderr: Buffer.concat(e).toString() };
}

async function runOk(args: string[], cwd: string, home: string): Promise<Ran> {
  const r = await run(args, cwd, home);
  expect(r.stderr, `modelship ${args.join(' ')}`).toBe('');
  expect(r.status, `modelship ${args.join(' ')}: ${r.stdout}`).toBe(0);
  return r;
}

interface DiscoverJson {
  digest: string;
  referrers: { digest: string; artifactType?: string; annotations?: Record<string, string> }[];
}

async function discover(ref: string, cwd: string, home: string, extra: string[] = []): Promise<DiscoverJson> {
  const r = await runOk(['discover', ref, '--json', ...extra], cwd, home);
  return JSON.parse(r.stdout) as DiscoverJson;
}

/** The one layer of the referrer of `artifactType` that `found` lists, read back verified. */
async function documentOf(target: ReadOnlyTarget, found: DiscoverJson, artifactType: string): Promise<{ manifest: ImageManifest; bytes: Uint8Array }> {
  const entry = found.referrers.find((r) => r.artifactType === artifactType);
  expect(entry, `a ${artifactType} referrer`).toBeDefined();
  const desc: Descriptor = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: entry!.digest, size: 0 };
  const resolved = await target.resolve(entry!.digest);
  const manifest = (await fetchManifest(target, { ...desc, size: resolved.size }, 'referrer')) as ImageManifest;
  expect(manifest.layers).toHaveLength(1);
  const bytes = await readAllVerified(await target.fetch(manifest.layers[0]!), manifest.layers[0]!, 1 << 22);
  return { manifest, bytes };
}

const json = (bytes: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(bytes));
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('documents attached to a packed model', () => {
  const registry = inject('registry');
  const repo = `attach-${randomBytes(4).toString('hex')}`;
  const remote = `${registry}/${repo}/tiny:v1`;
  const dirs: string[] = [];
  let work: string;
  let home: string;
  let class3: string;
  let noDataCard: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'modelship-attach-'));
    home = path.join(work, 'home');
    class3 = await makeProject('class3');
    noDataCard = await makeProject('no-data-card');
    dirs.push(work, class3, noDataCard);
    await writeFile(path.join(class3, 'requirements.txt'), 'numpy==1.26.4\n');
    await runOk(['pack', class3, '-t', 'tiny:v1'], work, home);
    await runOk(['pack', class3, '-t', 'tiny:tar', '--layer-format', 'tar'], work, home);
    await runOk(['pack', noDataCard, '-t', 'nodata:v1'], work, home);
    await runOk(['push', 'tiny:v1', remote, '--plain-http'], work, home);
  });
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('attaches SBOMs, cards and the MOF report to a registry reference through the referrers tag', async () => {
    await runOk(['sbom', remote, '--attach', '--plain-http'], work, home);
    await runOk(['sbom', remote, '--format', 'spdx', '--attach', '--plain-http'], work, home);
    await runOk(['mof', remote, '--attach', '--plain-http'], work, home);
    const card = await runOk(['card', remote, '--attach', '--plain-http'], work, home);
    expect(card.stdout).toContain(`(${MODEL_CARD}) to the registry's copy of ${remote} (sha256:`);
    expect(card.stdout).not.toContain('push to publish');

    const found = await discover(remote, work, home, ['--plain-http']);
    expect(found.referrers.map((r) => r.artifactType).sort()).toEqual(ALL_TYPES);
    const { target } = await openReference(remote, { cwd: work, env: {}, plainHttp: true });
    // docker-registry 2.8 has no referrers API: the list lives under the sha256-<hex> tag.
    const tagged = await target.resolve(referrersTagOf(found.digest));
    expect(tagged.mediaType).toBe('application/vnd.oci.image.index.v1+json');

    const cdx = await documentOf(target, found, CYCLONEDX);
    expect(cdx.manifest.subject?.digest).toBe(found.digest);
    expect(cdx.manifest.layers[0]!.mediaType).toBe(CYCLONEDX);
    expect(cdx.manifest.annotations?.['org.opencontainers.image.created']).toBeUndefined();
    expect(validateCycloneDx(json(cdx.bytes))).toEqual([]);
    const spdx = await documentOf(target, found, SPDX);
    expect(validateSpdx(json(spdx.bytes))).toEqual([]);

    // Raw layers: each file's SBOM hash is its layer digest, taken from the manifest.
    const model = (await fetchManifest(target, await target.resolve('v1'), remote)) as ImageManifest;
    const layerOf = (file: string) => model.layers.find((l) => l.annotations?.['org.cncf.model.filepath'] === file)!;
    const bom = json(cdx.bytes) as { components: { name: string; hashes?: { content: string }[]; components?: { name: string; hashes?: { content: string }[] }[] }[] };
    const fileHashes = new Map(bom.components.flatMap((c) => [c, ...(c.components ?? [])]).map((c) => [c.name, c.hashes?.[0]?.content]));
    expect(fileHashes.get('model.safetensors')).toBe(layerOf('model.safetensors').digest.slice('sha256:'.length));
    expect(fileHashes.get('README.md')).toBe(layerOf('README.md').digest.slice('sha256:'.length));
    // The dependency file was read from its own small layer.
    expect(JSON.stringify(bom)).toContain('pkg:pypi/numpy@1.26.4');

    const report = json((await documentOf(target, found, MOF_REPORT)).bytes) as { class: number };
    expect(report.class).toBe(3);
    const modelCard = new TextDecoder().decode((await documentOf(target, found, MODEL_CARD)).bytes);
    expect(modelCard).toMatch(/^---\n[\s\S]*license: apache-2.0/);
  });

  it('attaching the same documents again adds no referrer', async () => {
    await runOk(['sbom', remote, '--attach', '--plain-http'], work, home);
    await runOk(['mof', remote, '--attach', '--plain-http'], work, home);
    await runOk(['card', remote, '--attach', '--plain-http'], work, home);
    const found = await discover(remote, work, home, ['--plain-http']);
    expect(found.referrers.map((r) => r.artifactType).sort()).toEqual(ALL_TYPES);
    const tree = await runOk(['discover', remote, '--plain-http'], work, home);
    for (const name of ['CycloneDX SBOM', 'SPDX SBOM', 'MOF report', 'model card', 'data card']) expect(tree.stdout).toContain(`(${name})`);
  });

  it('pull --with-referrers brings them into the store, and copy --referrers to another repository keeps them', async () => {
    const fresh = path.join(work, 'fresh-home');
    await runOk(['pull', remote, '--with-referrers', '--plain-http'], work, fresh);
    // No --plain-http: the answer can only come from the store.
    const local = await discover(remote, work, fresh);
    expect(local.referrers.map((r) => r.artifactType).sort()).toEqual(ALL_TYPES);

    const other = `${registry}/${repo}-copy/tiny:v1`;
    await runOk(['copy', remote, other, '--referrers', '--plain-http'], work, home);
    const copied = await discover(other, work, home, ['--plain-http']);
    expect(copied.referrers.map((r) => r.artifactType).sort()).toEqual(ALL_TYPES);
  });

  it('attaches to an OCI layout through its referrers index without fetching a weight blob', async () => {
    await runOk(['copy', 'tiny:tar', 'oci:layout:v1'], work, home);
    const layout = new LayoutTarget(path.join(work, 'layout'));
    const model = (await fetchManifest(layout, await layout.resolve('v1'), 'layout')) as ImageManifest;
    const weights = model.layers.filter((l) => l.mediaType.startsWith('application/vnd.cncf.model.weight.v1.'));
    expect(weights.length).toBeGreaterThan(0);
    for (const w of weights) await rm(path.join(work, 'layout', 'blobs', 'sha256', w.digest.slice('sha256:'.length)));

    await runOk(['sbom', 'oci:layout:v1', '--attach'], work, home);
    await runOk(['sbom', 'oci:layout:v1', '--attach', '--format', 'spdx'], work, home);
    await runOk(['mof', 'oci:layout:v1', '--attach', '--require', '3'], work, home);
    await runOk(['card', 'oci:layout:v1', '--attach'], work, home);
    await runOk(['card', 'oci:layout:v1', '--attach'], work, home);
    // With nowhere to write and nothing to attach, the model card is printed.
    expect((await runOk(['card', 'oci:layout:v1'], work, home)).stdout).toMatch(/^---\n[\s\S]*license: apache-2.0/);

    const found = await discover('oci:layout:v1', work, home);
    expect(found.referrers.map((r) => r.artifactType).sort()).toEqual(ALL_TYPES);
    // The layout answers referrers itself: no fallback tag was written.
    const index = JSON.parse(await readFile(path.join(work, 'layout', 'index.json'), 'utf8')) as { manifests: Descriptor[] };
    expect(index.manifests.some((m) => m.annotations?.['org.opencontainers.image.ref.name']?.startsWith('sha256-'))).toBe(false);

    // Tar layers: the SBOM names each file's own digest, as packing recorded it.
    const cdx = json((await documentOf(layout, found, CYCLONEDX)).bytes);
    expect(validateCycloneDx(cdx)).toEqual([]);
    const weightHash = sha256(await readFile(path.join(class3, 'model.safetensors')));
    expect(JSON.stringify(cdx)).toContain(weightHash);
    expect(validateSpdx(json((await documentOf(layout, found, SPDX)).bytes))).toEqual([]);
  });

  it('gates on the MOF class of a store reference: 9 without the data card, 0 for Class III', async () => {
    const missing = await run(['mof', 'nodata:v1', '--require', '3', '--json'], work, home);
    expect(missing.status).toBe(9);
    const verdict = JSON.parse(missing.stdout) as { class: number; missing: Record<string, string[]>; gate: { passed: boolean } };
    expect(verdict.gate.passed).toBe(false);
    expect(verdict.missing['3']).toContain('Data card');
    const passing = await run(['mof', 'tiny:v1', '--require', '3'], work, home);
    expect(passing.stdout).toContain('gate passed');
    expect(passing.status).toBe(0);
  });

  it('refuses --attach on a folder and says to pack first', async () => {
    for (const command of ['sbom', 'mof', 'card']) {
      const r = await run([command, class3, '--attach'], work, home);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/pack/);
    }
  });
});
