import { readFile, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, inject, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { storeReference } from '../../modules/store/index.js';
import { bytesOf, tempDir, writeTree } from '../modelpack/helpers.js';

async function cli(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number; json: any; stderr: string }> {
  const res = await runCli([...args, '--json'], { env: { ...env, CI: '1' }, cwd });
  return { code: res.code, json: res.stdout ? res.json() : undefined, stderr: res.stderr };
}

async function modelFolder(): Promise<string> {
  const dir = await tempDir('modelship-cli-');
  await writeTree(dir, {
    'Kitfile': 'manifestVersion: 1.0.0\npackage:\n  name: tiny\nmodel:\n  name: tiny\n  path: model.gguf\ndocs:\n  - path: README.md\n',
    'model.gguf': bytesOf(400_000, 3),
    'README.md': '# tiny\n',
  });
  return dir;
}

describe('store references', () => {
  it('keeps registry references whole and bare names short', () => {
    expect(storeReference('127.0.0.1:5000/models/x:v1')).toBe('127.0.0.1:5000/models/x:v1');
    expect(storeReference('llama:v1')).toBe('llama:v1');
    expect(storeReference('acme/llama')).toBe('acme/llama:latest');
    expect(storeReference('ghcr.io/acme/llama')).toBe('ghcr.io/acme/llama:latest');
  });
});

describe('pack, push, pull, unpack, list, tag, rm, prune through the CLI', () => {
  it('round trips through the shared registry, re-pushing only the changed blob', async () => {
    const registry = inject('registry');
    const home = await tempDir('modelship-home-');
    const env = { MODELSHIP_HOME: home, HOME: home };
    const dir = await modelFolder();
    const ref = `${registry}/modelpack/store-${Date.now()}:v1`;

    const packed = await cli(['pack', dir, '-t', ref], env, dir);
    expect(packed.code, packed.stderr).toBe(0);
    expect(packed.json.reference).toBe(ref);
    expect(packed.json.layers.map((l: { path: string }) => l.path)).toEqual(['README.md', 'model.gguf']);
    expect(packed.json.filesRead).toBe(2);

    // Any OCI tool reads the store under the full reference.
    const raw = await execa('skopeo', ['inspect', '--raw', `oci:${join(home, 'store')}:${ref}`]);
    expect(JSON.parse(raw.stdout).artifactType).toBe('application/vnd.cncf.model.manifest.v1+json');

    const pushed = await cli(['push', ref, '--plain-http'], env, dir);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.json.digest).toBe(packed.json.digest);
    const remoteRaw = await execa('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
    expect(JSON.parse(remoteRaw.stdout).layers).toHaveLength(2);
    const copied = join(await tempDir(), 'copied');
    await execa('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${copied}:v1`]);
    expect(JSON.parse((await execa('skopeo', ['inspect', '--raw', `oci:${copied}:v1`])).stdout)).toEqual(JSON.parse(raw.stdout));

    // Change the doc only: the re-pack reads one file, the re-push uploads its blob and the new manifest and config.
    await writeFile(join(dir, 'README.md'), '# tiny, revised\n');
    const repacked = await cli(['pack', dir, '-t', ref], env, dir);
    expect(repacked.json.filesRead).toBe(1);
    expect(repacked.json.filesCached).toBe(1);
    const repushed = await cli(['push', ref, '--plain-http'], env, dir);
    expect(repushed.code, repushed.stderr).toBe(0);
    expect(repushed.json.copied).toBe(3);
    expect(repushed.json.bytes).toBeLessThan(10_000);

    // A fresh home pulls it back and unpacks it byte for byte.
    const home2 = await tempDir('modelship-home-');
    const env2 = { MODELSHIP_HOME: home2, HOME: home2 };
    const pulled = await cli(['pull', ref, '--plain-http'], env2, dir);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.json.digest).toBe(repacked.json.digest);
    const out = join(await tempDir(), 'out');
    const unpacked = await cli(['unpack', ref, '-d', out], env2, dir);
    expect(unpacked.code, unpacked.stderr).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['README.md', 'model.gguf']);
    expect(Buffer.compare(await readFile(join(out, 'model.gguf')), await readFile(join(dir, 'model.gguf')))).toBe(0);

    // tag, list, rm, prune.
    expect((await cli(['tag', ref, 'tiny:local'], env2, dir)).code).toBe(0);
    const listed = await cli(['list'], env2, dir);
    expect(listed.json.models.map((m: { reference: string }) => m.reference).sort()).toEqual([ref, 'tiny:local'].sort());
    expect(listed.json.models[0].format).toBe('modelpack');
    expect((await cli(['rm', ref], env2, dir)).code).toBe(0);
    expect((await cli(['prune'], env2, dir)).json.removedBlobs).toEqual([]);
    expect((await cli(['rm', 'tiny:local'], env2, dir)).code).toBe(0);
    const pruned = await cli(['prune'], env2, dir);
    expect(pruned.json.removedBlobs).toHaveLength(4);
    expect((await cli(['list'], env2, dir)).json.models).toEqual([]);
    expect((await cli(['rm', 'tiny:local'], env2, dir)).code).toBe(4);
  });

  it('inspect shows the model view of a ModelPack artifact and of a KitOps ModelKit', async () => {
    const home = await tempDir('modelship-home-');
    const env = { MODELSHIP_HOME: home, HOME: home };
    const dir = await modelFolder();
    expect((await cli(['pack', dir, '-t', 'tiny:v1', '--format', 'modelkit'], env, dir)).code).toBe(0);
    const modelpack = await cli(['inspect', 'tiny:v1', '--json'], env, dir);
    expect(modelpack.json.model.format).toBe('modelpack');
    expect(modelpack.json.model.fields.name).toBe('tiny');
    expect(modelpack.json.model.files.map((f: { path: string; kind: string }) => `${f.kind} ${f.path}`)).toEqual(['doc README.md', 'weight model.gguf']);
    const modelkit = await runCli(['inspect', 'tiny:v1-modelkit'], { env: { ...env, CI: '1' }, cwd: dir });
    expect(modelkit.code, modelkit.stderr).toBe(0);
    expect(modelkit.stdout).toMatch(/model \(modelkit\):\n\s+name\s+tiny/);
    expect(modelkit.stdout).toMatch(/weight\s+392\.5 KiB {2}\. {2}\(tar\)/);
  });

  it('unpacks straight from an oci: layout and refuses a push with no registry', async () => {
    const home = await tempDir('modelship-home-');
    const env = { MODELSHIP_HOME: home, HOME: home };
    const dir = await modelFolder();
    const packed = await cli(['pack', dir, '-t', 'tiny:v1'], env, dir);
    expect(packed.code).toBe(0);
    const layout = join(home, 'store');
    const out = join(await tempDir(), 'out');
    const res = await cli(['unpack', `oci:${layout}@${packed.json.digest}`, '-d', out, '--filter', 'docs'], env, dir);
    expect(res.code, res.stderr).toBe(0);
    expect(await readdir(out)).toEqual(['README.md']);
    const missing = await cli(['unpack', 'nothere:v1', '-d', out], env, dir);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('not in the local store');
    // Every command treats a bare name as local: no guess at Docker Hub, the same exit status.
    for (const args of [['inspect', 'nothere:v1'], ['discover', 'nothere:v1'], ['copy', 'nothere:v1', `oci:${out}-copy:v1`]]) {
      const res = await cli(args, env, dir);
      expect(res.code, args.join(' ')).toBe(4);
      expect(res.stderr).toContain('not in the local store');
    }
    const push = await cli(['push', 'tiny:v1'], env, dir);
    expect(push.code).toBe(2);
    expect(push.stderr).toContain('give DEST');
  });
});
