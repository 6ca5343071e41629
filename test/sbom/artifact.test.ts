import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { descriptorOf, encodeManifest, LayoutTarget, openReference, readAllVerified, referrers, fetchManifest, type Target, type ImageManifest } from '../../modules/oci/index.js';
import { readCycloneDx, validateSpdx } from '../../modules/sbom/index.js';
import { sha256Hex } from './fixtures.js';

const weights = new TextEncoder().encode('pretend these are GGUF weights');
const readme = new TextEncoder().encode('# tiny\n');
const config = new TextEncoder().encode(
  JSON.stringify({
    descriptor: { name: 'tiny', version: '0.1.0', licenses: ['Apache-2.0'], vendor: 'Example Labs' },
    config: { architecture: 'llama', format: 'gguf', paramSize: '10M', capabilities: { inputTypes: ['text'], outputTypes: ['text'] } },
    modelfs: { type: 'layers', diffIds: [`sha256:${sha256Hex(weights)}`, `sha256:${sha256Hex(readme)}`] },
  }),
);

/** Pushes a small ModelPack artifact and tags it. */
async function pushModel(target: Target, tag: string) {
  const layers = [
    { bytes: weights, desc: descriptorOf(weights, 'application/vnd.cncf.model.weight.v1.raw', { annotations: { 'org.cncf.model.filepath': 'tiny.gguf' } }) },
    { bytes: readme, desc: descriptorOf(readme, 'application/vnd.cncf.model.doc.v1.raw', { annotations: { 'org.cncf.model.filepath': 'README.md' } }) },
  ];
  const configDesc = descriptorOf(config, 'application/vnd.cncf.model.config.v1+json');
  await target.push(configDesc, config);
  for (const l of layers) await target.push(l.desc, l.bytes);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: 'application/vnd.cncf.model.manifest.v1+json',
    config: configDesc,
    layers: layers.map((l) => l.desc),
  };
  const { bytes, descriptor } = encodeManifest(manifest);
  await target.push(descriptor, bytes);
  await target.tag(descriptor, tag);
  return descriptor;
}

async function run(args: string[], cwd: string) {
  const { code: status, stdout, stderr } = await runCli(args, { cwd, env: { CI: '1' } });
  return { status, stdout, stderr };
}

describe('modelship sbom REF', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sbom-ref-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('builds from the manifest and config of an OCI layout and attaches it as a referrer', async () => {
    const layout = new LayoutTarget(path.join(dir, 'layout'));
    const subject = await pushModel(layout, 'v1');
    const r = await run(['sbom', 'oci:layout:v1', '--attach', '-o', 'bom.json'], dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('attached sha256:');
    const found = await referrers(layout, subject, 'application/vnd.cyclonedx+json');
    expect(found).toHaveLength(1);
    const sbomManifest = (await fetchManifest(layout, found[0]!, 'referrer')) as ImageManifest;
    expect(sbomManifest.subject?.digest).toBe(subject.digest);
    expect(sbomManifest.layers[0]!.mediaType).toBe('application/vnd.cyclonedx+json');
    const bytes = await readAllVerified(await layout.fetch(sbomManifest.layers[0]!), sbomManifest.layers[0]!, 1 << 20);
    const view = readCycloneDx(new TextDecoder().decode(bytes));
    expect(view.subject).toMatchObject({ name: 'tiny', version: '0.1.0', licenses: ['Apache-2.0'] });
    expect(view.subject!.purl).toBe(`pkg:oci/layout@${subject.digest.replace(':', '%3A')}?tag=v1`);
    expect(view.components.find((c) => c.name === 'tiny.gguf')!.hashes).toEqual([{ alg: 'SHA-256', content: sha256Hex(weights) }]);
    expect(view.modelCards[0]!.task).toBe('text-generation');
  });

  it('attaches an SPDX document to a model in a registry (referrers tag fallback)', async () => {
    const host = inject('registry');
    const ref = `${host}/sbom-test/tiny-${process.pid}:v1`;
    const opened = await openReference(ref, { cwd: dir, env: {}, plainHttp: true });
    const subject = await pushModel(opened.target, 'v1');
    const r = await run(['sbom', ref, '--plain-http', '--format', 'spdx', '--attach', '--json'], dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(validateSpdx(JSON.parse(r.stdout))).toEqual([]);
    const found = await referrers(opened.target, subject, 'application/spdx+json');
    expect(found).toHaveLength(1);
    expect(found[0]!.artifactType).toBe('application/spdx+json');
  });
});
