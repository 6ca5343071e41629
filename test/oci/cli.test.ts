import { describe, expect, it } from 'vitest';
import { LayoutTarget, attach, buildArtifactManifest, descriptorOf } from '../../modules/oci/index.js';
import { runCli } from '../helpers/cli.js';
import { pushImage, sampleImage, tempDir } from './fixtures.js';

const cli = (args: string[], cwd?: string) => runCli(args, cwd ? { cwd } : {});

describe('copy, inspect and discover commands', () => {
  it('copies between layouts and reports counts as JSON', async () => {
    const dir = await tempDir();
    const src = new LayoutTarget(`${dir}/src`);
    const image = sampleImage([100, 200]);
    await pushImage(src, image, 'v1');
    const first = await cli(['copy', 'oci:src:v1', 'oci:dst', '--json'], dir);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      source: 'oci:src:v1',
      destination: 'oci:dst',
      digest: image.descriptor.digest,
      mediaType: image.descriptor.mediaType,
      size: image.descriptor.size,
      copied: 4,
      skipped: 0,
      mounted: 0,
      bytes: 300 + image.blobs[0]!.descriptor.size + image.descriptor.size,
    });
    // DST without a tag keeps the source's tag
    expect((await new LayoutTarget(`${dir}/dst`).resolve('v1')).digest).toBe(image.descriptor.digest);
    const again = await cli(['copy', 'oci:src:v1', 'oci:dst:v1'], dir);
    expect(again.stdout).toContain(image.descriptor.digest);
    expect(again.stdout).toContain('0 copied (0 B), 1 already there');
  });

  it('inspects a manifest with layer titles, and prints the raw manifest with --json', async () => {
    const dir = await tempDir();
    const image = sampleImage([123]);
    await pushImage(new LayoutTarget(dir), image, 'v1');
    const text = await cli(['inspect', `oci:${dir}:v1`]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`digest:       ${image.descriptor.digest}`);
    expect(text.stdout).toMatch(/123 +application\/vnd\.oci\.image\.layer\.v1\.tar +layer-0\.bin/);
    const json = JSON.parse((await cli(['inspect', `oci:${dir}:v1`, '--json'])).stdout);
    expect(json).toMatchObject({ digest: image.descriptor.digest, mediaType: image.descriptor.mediaType, manifest: image.manifest });
  });

  it('discovers referrers as a nested tree', async () => {
    const dir = await tempDir();
    const layout = new LayoutTarget(dir);
    const image = sampleImage([1]);
    await pushImage(layout, image, 'v1');
    const sbomBytes = new TextEncoder().encode('{}x');
    const sbom = await attach(layout, image.descriptor, await buildArtifactManifest(layout, { artifactType: 'application/spdx+json', layers: [{ descriptor: descriptorOf(sbomBytes, 'application/spdx+json'), content: sbomBytes }] }));
    const sig = await attach(layout, sbom, await buildArtifactManifest(layout, { artifactType: 'application/vnd.example.sig', layers: [] }));
    const text = await cli(['discover', `oci:${dir}:v1`]);
    expect(text.stdout).toContain(`└── application/spdx+json  ${sbom.digest}`);
    expect(text.stdout).toContain(`    └── application/vnd.example.sig  ${sig.digest}`);
    const json = JSON.parse((await cli(['discover', `oci:${dir}:v1`, '--json'])).stdout);
    expect(json.referrers[0].digest).toBe(sbom.digest);
    expect(json.referrers[0].referrers[0]).toMatchObject({ digest: sig.digest, artifactType: 'application/vnd.example.sig', referrers: [] });
  });

  it('maps bad input to exit statuses with messages that say what to do', async () => {
    const bad = await cli(['copy', 'oci:x:v1', 'Not/Valid:ref']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Accepted forms');
    const missing = await cli(['inspect', `oci:${await tempDir()}:v1`]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('not an OCI image layout');
    const usage = await cli(['copy', 'oci:only-one']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('Usage: modelship copy SRC DST');
    const help = await cli(['copy', '--help']);
    expect(help.stdout).toContain('oci:PATH[:TAG|@DIGEST]');
    expect(help.stdout).toContain('Examples:');
  });
});
