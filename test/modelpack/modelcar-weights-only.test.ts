/**
 * A ModelCar of a project with only weights and config (no README, LICENSE or code): the document
 * readers (mof, sbom) find no document layer to fetch, and still read the artifact (issue 16, point 11).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { generateSigningKeyPair } from '../../modules/sign/index.js';
import { bareRepository } from '../gitops/helpers.js';
import { runCli } from '../helpers/cli.js';
import { LLAMA_METADATA, writeGguf } from '../project/gguf-fixture.js';
import { busyboxBase } from './busybox.js';
import { tempDir } from './helpers.js';

const registry = inject('registry');

describe('a weights-only ModelCar', () => {
  it('gives its MOF report and SBOM like the plain pack, and hands off', async () => {
    const base = await tempDir('modelcar-weights-only-');
    const project = join(base, 'project');
    await mkdir(project);
    await writeGguf(join(project, 'model.gguf'), { metadata: LLAMA_METADATA });
    await writeFile(join(project, 'config.json'), '{"context_length": 2048}\n');
    await writeFile(join(project, 'Modelfile'), 'MODEL model.gguf\nCONFIG config.json\n');
    const env = { MODELSHIP_HOME: join(base, 'home') };
    const cli = (args: string[]) => runCli(args, { env, cwd: base });
    const busybox = await busyboxBase();

    expect((await cli(['pack', project, '-t', 'plain:v1'])).code).toBe(0);
    const car = await cli(['pack', project, '-t', 'car:v1', '--modelcar', '--modelcar-base', `oci:${busybox.location}:latest`, '--json']);
    expect(car.stderr).toBe('');
    expect(car.code).toBe(0);

    for (const args of [['mof'], ['sbom'], ['sbom', '--format', 'spdx']]) {
      const plain = await cli([args[0]!, 'plain:v1', ...args.slice(1), '--json']);
      const onCar = await cli([args[0]!, 'car:v1', ...args.slice(1), '--json']);
      expect(onCar.stderr, args.join(' ')).toBe('');
      expect(onCar.code, args.join(' ')).toBe(0);
      expect(plain.code).toBe(0);
    }
    const mofPlain = (await cli(['mof', 'plain:v1', '--json'])).json();
    const mofCar = (await cli(['mof', 'car:v1', '--json'])).json();
    expect(mofCar.class).toBe(mofPlain.class);
    expect(mofCar.missing).toEqual(mofPlain.missing);

    const keys = generateSigningKeyPair();
    await writeFile(join(base, 'signing.key'), keys.privateKeyPem);
    await writeFile(join(base, 'signing.pub'), keys.publicKeyPem);
    expect((await cli(['sign', 'car:v1', '--key', 'signing.key'])).code).toBe(0);
    const remote = `${registry}/weights-only/car:v1`;
    expect((await cli(['push', 'car:v1', remote, '--plain-http'])).code).toBe(0);
    const handoff = await cli(['handoff', remote, '--gitops', await bareRepository(), '--cluster-url', 'https://github.com/acme/gitops.git', '--key', 'signing.pub', '--plain-http', '--json']);
    expect(handoff.stderr).toBe('');
    expect(handoff.code).toBe(0);
  });
});
