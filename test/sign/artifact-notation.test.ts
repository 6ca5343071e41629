import { describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { packModel } from '../../modules/modelpack/index.js';
import { LayoutTarget, referrers } from '../../modules/oci/index.js';
import { NOTATION_SIGNATURE_ARTIFACT_TYPE } from '../../modules/sign/notation/index.js';
import { main } from '../../modules/cli/main.js';
import { sampleModel } from '../modelpack/helpers.js';
import { makeCa, makeLeaf, strictPolicy, tempDir } from './notation/pki.js';

async function cli(argv: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await main(argv, { stdout, stderr, env: { MODELSHIP_HOME: join(cwd, 'home') }, cwd });
  return { code, out: Buffer.concat(out).toString(), err: Buffer.concat(err).toString() };
}

describe('modelship sign REF --notation with an X.509 chain', () => {
  it('attaches Sigstore certificate bundles and a Notation signature; both verify, and another CA fails', async () => {
    const dir = await tempDir();
    const ca = await makeCa(dir, 'model-ca');
    const leaf = await makeLeaf(dir, 'model-signer', ca);
    const other = await makeCa(dir, 'other-ca');
    const layout = new LayoutTarget(join(dir, 'layout'));
    await layout.init();
    const packed = await packModel(await sampleModel(join(dir, 'model')), layout, { tag: 'v1' });
    await writeFile(join(dir, 'trustpolicy.json'), strictPolicy());

    const signed = await cli(['sign', 'oci:layout:v1', '--cert', leaf.certPath, '--chain', ca.certPath, '--key', leaf.keyPath, '--notation', '--json'], dir);
    expect(signed.err).toBe('');
    expect(signed.code).toBe(0);
    expect(JSON.parse(signed.out).attached.map((a: { artifactType: string }) => a.artifactType)).toContain(NOTATION_SIGNATURE_ARTIFACT_TYPE);
    expect(await referrers(layout, packed.descriptor, NOTATION_SIGNATURE_ARTIFACT_TYPE)).toHaveLength(1);

    const notation = await cli(['verify', 'oci:layout:v1', '--trust-policy', 'trustpolicy.json', '--trust-store', `ca:test=${ca.certPath}`], dir);
    expect(notation.out).toMatch(/ok +integrity/);
    expect(notation.code).toBe(0);
    const untrusted = await cli(['verify', 'oci:layout:v1', '--trust-policy', 'trustpolicy.json', '--trust-store', `ca:test=${other.certPath}`, '--json'], dir);
    expect(untrusted.code).toBe(8);
    expect(JSON.parse(untrusted.out).reason).toMatch(/^authenticity: .*does not lead to a certificate in trust stores ca:test/);

    const sigstore = await cli(['verify', 'oci:layout:v1', '--ca', ca.certPath], dir);
    expect(sigstore.out).toMatch(/ok +certificate-chain/);
    expect(sigstore.code).toBe(0);
    expect((await cli(['verify', 'oci:layout:v1', '--ca', other.certPath], dir)).code).toBe(8);
    const keyOnly = await cli(['sign', 'oci:layout:v1', '--key', leaf.keyPath, '--notation'], dir);
    expect(keyOnly.code).toBe(2);
    expect(keyOnly.err).toMatch(/--notation signs with a certificate/);
  });
});
