/**
 * oras 1.3.6 and crane 0.22.1 judge what `modelship push` and `sign` put in a registry: the digests
 * they compute agree with ours, `oras discover` lists our referrers, `oras pull` writes our files
 * byte for byte, and a blob changed on the registry's disk is refused by oras as by modelship.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { JUDGE_TEST_TIMEOUT, runJudge } from '../helpers/judges.js';
import { startRegistry, type RunningRegistry } from '../helpers/registry.js';

let work: string;
let env: NodeJS.ProcessEnv;
let registry: RunningRegistry;
let project: string;
let ref: string;
let ours: { digest: string; referrers: { digest: string; artifactType?: string; tag?: string }[] };

async function must(args: string[]) {
  const res = await runCli(args, { env, cwd: work });
  if (res.code !== 0) throw new Error(`modelship ${args.join(' ')} failed (${res.code}): ${res.stderr}${res.stdout}`);
  return res;
}

const judge = (name: 'oras' | 'crane', args: string[]) => runJudge(name, args, { env: { HOME: work } });
const sha256 = (b: Uint8Array | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'judge-oras-'));
  env = { MODELSHIP_HOME: join(work, 'home'), HOME: work };
  registry = await startRegistry();
  ref = `${registry.host}/judges/oras-chat:v1`;
  project = join(work, 'oras-chat');
  for (const args of [['example', project], ['pack', project, '-t', ref], ['keys', 'generate', '-o', join(work, 'dev')], ['sbom', ref, '--attach'], ['sign', ref, '--key', join(work, 'dev.key')], ['push', ref, '--plain-http']]) await must(args);
  ours = (await must(['discover', ref, '--plain-http', '--json'])).json();
}, 240_000);

afterAll(async () => {
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('oras 1.3.6 and crane 0.22.1 read what modelship pushes', { timeout: JUDGE_TEST_TIMEOUT }, () => {
  it('compute the digest we report, from the manifest bytes the registry serves', async () => {
    const craneDigest = await judge('crane', ['digest', '--insecure', ref]);
    expect(craneDigest.exitCode, craneDigest.output).toBe(0);
    expect(craneDigest.stdout.trim()).toBe(ours.digest);
    const craneManifest = await judge('crane', ['manifest', '--insecure', ref]);
    expect(sha256(craneManifest.stdout)).toBe(ours.digest);
    const orasManifest = await judge('oras', ['manifest', 'fetch', '--plain-http', '--descriptor', ref]);
    expect(JSON.parse(orasManifest.stdout)).toMatchObject({ digest: ours.digest, mediaType: 'application/vnd.oci.image.manifest.v1+json' });
  });

  it('oras discover lists the referrers modelship discover lists, and none for an unsigned model', async () => {
    const run = await judge('oras', ['discover', '--plain-http', '--format', 'json', ref]);
    expect(run.exitCode, run.output).toBe(0);
    const listed = JSON.parse(run.stdout) as { digest: string; referrers: { digest: string; artifactType: string }[] };
    expect(listed.digest).toBe(ours.digest);
    expect(ours.referrers.length).toBeGreaterThanOrEqual(3);
    // cosign's tag signature (`sha256-<hex>.sig`) is a tag, not an OCI referrer: oras lists referrers only.
    const ociReferrers = ours.referrers.filter((r) => r.tag === undefined);
    expect(listed.referrers.map((r) => [r.digest, r.artifactType]).sort()).toEqual(ociReferrers.map((r) => [r.digest, r.artifactType]).sort());
    const signatureTag = ours.referrers.find((r) => r.tag !== undefined);
    expect(signatureTag?.tag).toBe(`sha256-${ours.digest.slice(7)}.sig`);
    const tagged = await judge('crane', ['digest', '--insecure', `${ref.replace(/:[^:/]+$/, '')}:${signatureTag!.tag}`]);
    expect(tagged.stdout.trim(), tagged.output).toBe(signatureTag!.digest);

    const unsigned = `${registry.host}/judges/oras-unsigned:v1`;
    await writeFile(join(project, 'config.json'), '{"unsigned":true}\n');
    await must(['pack', project, '-t', unsigned]);
    await must(['push', unsigned, '--plain-http']);
    const none = await judge('oras', ['discover', '--plain-http', '--format', 'json', unsigned]);
    expect(none.exitCode, none.output).toBe(0);
    expect(JSON.parse(none.stdout).referrers ?? []).toEqual([]);
  });

  it('oras pull writes the packed files byte for byte', async () => {
    const fresh = join(work, 'fresh');
    await must(['example', fresh]);
    const out = join(work, 'oras-pulled');
    const run = await judge('oras', ['pull', '--plain-http', '-o', out, ref]);
    expect(run.exitCode, run.output).toBe(0);
    const pulled = await filesUnder(out);
    expect(pulled).toEqual(expect.arrayContaining(['README.md', 'config.json', 'model/tiny-chat.gguf']));
    for (const file of pulled) expect(await readFile(join(out, file)), file).toEqual(await readFile(join(fresh, file)));
  });

  it('refuse, as modelship does, a weight blob changed on the registry disk', async () => {
    const manifest = JSON.parse((await judge('crane', ['manifest', '--insecure', ref])).stdout) as { layers: { digest: string; annotations?: Record<string, string> }[] };
    const weight = manifest.layers.find((l) => l.annotations?.['org.opencontainers.image.title']?.endsWith('.gguf'))!;
    const hex = weight.digest.slice('sha256:'.length);
    const blob = join(registry.root, 'data', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
    const bytes = await readFile(blob);
    bytes[bytes.length - 1] ^= 0xff;
    await writeFile(blob, bytes);
    const oras = await judge('oras', ['pull', '--plain-http', '-o', join(work, 'oras-tampered'), ref]);
    expect(oras.exitCode).not.toBe(0);
    expect(oras.output).toMatch(/digest|mismatch/i);
    const ourPull = await runCli(['pull', ref, '--plain-http'], { env: { ...env, MODELSHIP_HOME: join(work, 'other-home') }, cwd: work });
    expect(ourPull.code, ourPull.stderr).toBe(7);
  });
});
