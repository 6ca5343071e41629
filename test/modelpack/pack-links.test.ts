import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from './helpers.js';

/** A project holding a small weight file and a link to a secret that lies outside it. */
async function projectWithLink(linkName: string, spec: [string, string]): Promise<{ dir: string; secret: string; home: string }> {
  const outside = await tempDir('modelship-outside-');
  const secret = join(outside, 'id_rsa');
  await writeFile(secret, '-----BEGIN OPENSSH PRIVATE KEY-----\n');
  const dir = await tempDir('modelship-links-');
  await writeFile(join(dir, 'model.gguf'), 'GGUF weights');
  await mkdir(join(dir, 'docs'));
  await symlink(secret, join(dir, linkName));
  await writeFile(join(dir, spec[0]), spec[1]);
  return { dir, secret, home: await tempDir('modelship-home-') };
}

async function expectLinkRefused(linkName: string, spec: [string, string]): Promise<void> {
  const { dir, secret, home } = await projectWithLink(linkName, spec);
  const run = await runCli(['pack', dir, '-t', 'leak:v1', '--json'], { env: { MODELSHIP_HOME: home }, cwd: dir });
  expect(run.code, run.stderr).toBe(3);
  expect(run.json().error.code).toBe('SPEC_LINK_OUTSIDE');
  expect(run.stderr).toContain(`${linkName}, a symbolic link to ${secret}, outside the project folder`);
  // Nothing was stored under the tag.
  const inspect = await runCli(['inspect', 'leak:v1'], { env: { MODELSHIP_HOME: home }, cwd: dir });
  expect(inspect.code).toBe(4);
}

describe('pack refuses links that lead out of the project', () => {
  it('a link matched by a glob in modelship.yaml', async () => {
    await expectLinkRefused('NOTES.md', ['modelship.yaml', 'name: tiny\nweights: [model.gguf]\ndocs: ["*.md"]\n']);
  });

  it('a link named by a Kitfile model.path', async () => {
    await expectLinkRefused('weights.gguf', ['Kitfile', 'manifestVersion: 1.0.0\npackage:\n  name: tiny\nmodel:\n  path: weights.gguf\n']);
  });

  it('a link named by a Modelfile', async () => {
    await expectLinkRefused('weights.gguf', ['Modelfile', 'name tiny\nmodel weights.gguf\n']);
  });

  it('a link through a linked folder', async () => {
    const { dir, home } = await projectWithLink('NOTES.md', ['modelship.yaml', 'name: tiny\nweights: [model.gguf]\ndocs: ["*.md"]\n']);
    // NOTES.md -> id_rsa outside; here a second link inside the project leads to it through a folder link.
    const outsideFolder = await tempDir('modelship-outside-folder-');
    await writeFile(join(outsideFolder, 'config.json'), '{"auths":{}}');
    await symlink(outsideFolder, join(dir, 'docker'));
    await symlink('docker/config.json', join(dir, 'README.md'));
    const run = await runCli(['pack', dir, '-t', 'leak:v1'], { env: { MODELSHIP_HOME: home }, cwd: dir });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/(NOTES|README)\.md, a symbolic link to /);
  });

  it('packs links that stay inside, and ignores an outside link nothing packs', async () => {
    const { dir, home } = await projectWithLink('secret.key', ['modelship.yaml', 'name: tiny\nweights: [model.gguf]\ndocs: ["docs/"]\n']);
    await writeFile(join(dir, 'docs', 'guide.md'), '# guide');
    await symlink('guide.md', join(dir, 'docs', 'README.md'));
    const run = await runCli(['pack', dir, '-t', 'fine:v1', '--json'], { env: { MODELSHIP_HOME: home }, cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json().layers.map((l: { path: string }) => l.path)).toEqual(['docs/README.md', 'docs/guide.md', 'model.gguf']);
  });
});

describe('sbom does not read a README that leads out of the project', () => {
  it('refuses README.md linked to a file elsewhere', async () => {
    const { dir, secret, home } = await projectWithLink('README.md', ['modelship.yaml', 'name: tiny\nweights: [model.gguf]\n']);
    const run = await runCli(['sbom', dir, '--json'], { env: { MODELSHIP_HOME: home }, cwd: dir });
    expect(run.code, run.stderr).toBe(3);
    expect(run.json().error).toMatchObject({ code: 'SPEC_LINK_OUTSIDE', details: { link: 'README.md', target: secret } });
  });
});
