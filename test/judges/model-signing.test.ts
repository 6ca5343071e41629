/**
 * The OpenSSF reference implementation (`model_signing` 1.1.1, PyPI) judges our OMS signatures, and we
 * judge the ones it makes here: key and certificate methods, each accepted and, tampered or under
 * another key, refused by both sides.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCli } from '../helpers/cli.js';
import { JUDGE_TEST_TIMEOUT, runJudge } from '../helpers/judges.js';
import { makeModel } from '../sign/helpers.js';
import { caExtensions, issue, makeRoot, type TestCert } from '../sign/hostile-pki.js';

const ours = (argv: string[]) => runCli(argv, { stdin: Object.assign(new PassThrough(), { isTTY: false }) });

let work: string;
let root: TestCert;
let intermediate: TestCert;
let leaf: TestCert;
let otherRoot: TestCert;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'judge-oms-'));
  for (const name of ['dev', 'other']) expect((await ours(['keys', 'generate', '-o', join(work, name)])).code).toBe(0);
  root = await makeRoot('judge root');
  intermediate = await issue(root, 'judge intermediate', { extensions: caExtensions() });
  leaf = await issue(intermediate, 'judge signer');
  otherRoot = await makeRoot('judge other root');
  await writeFile(join(work, 'root.pem'), root.pem);
  await writeFile(join(work, 'other-root.pem'), otherRoot.pem);
  await writeFile(join(work, 'leaf.pem'), leaf.pem);
  await writeFile(join(work, 'leaf.key'), leaf.keyPem);
  await writeFile(join(work, 'chain.pem'), intermediate.pem);
}, 120_000);

const verifyKey = (dir: string, pub: string) => runJudge('model-signing', ['verify', 'key', dir, '--signature', join(dir, 'model.sig'), '--public_key', pub]);
const verifyCert = (dir: string, roots: string) => runJudge('model-signing', ['verify', 'certificate', dir, '--signature', join(dir, 'model.sig'), '--certificate_chain', roots]);

describe('model_signing 1.1.1 verifies what modelship signs', { timeout: JUDGE_TEST_TIMEOUT }, () => {
  it('accepts our key signature, and refuses it under another key or after a file changes', async () => {
    const dir = await makeModel('judged-by-oms');
    expect((await ours(['sign', dir, '--key', join(work, 'dev.key')])).code).toBe(0);
    const good = await verifyKey(dir, join(work, 'dev.pub'));
    expect(good.exitCode, good.output).toBe(0);
    expect(good.output).toMatch(/Verification succeeded/);
    const otherKey = await verifyKey(dir, join(work, 'other.pub'));
    expect(otherKey.exitCode, otherKey.output).not.toBe(0);
    await writeFile(join(dir, 'config.json'), '{"layers":3}\n');
    const tampered = await verifyKey(dir, join(work, 'dev.pub'));
    expect(tampered.exitCode, tampered.output).not.toBe(0);
  });

  it('accepts our certificate signature against its root, and refuses it against another root', async () => {
    const dir = await makeModel('judged-by-oms-cert');
    const signed = await ours(['sign', dir, '--cert', join(work, 'leaf.pem'), '--chain', join(work, 'chain.pem'), '--key', join(work, 'leaf.key')]);
    expect(signed.code, signed.stderr).toBe(0);
    const good = await verifyCert(dir, join(work, 'root.pem'));
    expect(good.exitCode, good.output).toBe(0);
    const otherRootRun = await verifyCert(dir, join(work, 'other-root.pem'));
    expect(otherRootRun.exitCode, otherRootRun.output).not.toBe(0);
  });
});

describe('modelship verifies what model_signing 1.1.1 signs', { timeout: JUDGE_TEST_TIMEOUT }, () => {
  it('accepts its key signature, and refuses it under another key or after a file changes', async () => {
    const dir = await makeModel('signed-by-oms');
    const sign = await runJudge('model-signing', ['sign', 'key', dir, '--private_key', join(work, 'dev.key'), '--signature', join(dir, 'model.sig')]);
    expect(sign.exitCode, sign.output).toBe(0);
    const good = await ours(['verify', dir, '--key', join(work, 'dev.pub')]);
    expect(good.code, good.stdout + good.stderr).toBe(0);
    expect((await ours(['verify', dir, '--key', join(work, 'other.pub')])).code).toBe(8);
    await writeFile(join(dir, 'README.md'), '# changed\n');
    const tampered = await ours(['verify', dir, '--key', join(work, 'dev.pub'), '--json']);
    expect(tampered.code).toBe(8);
    expect(tampered.json().reason).toMatch(/README\.md has changed/);
  });

  it('accepts its certificate signature against the root, and refuses it against another root', async () => {
    const dir = await makeModel('signed-by-oms-cert');
    const sign = await runJudge('model-signing', [
      'sign', 'certificate', dir, '--private_key', join(work, 'leaf.key'), '--signing_certificate', join(work, 'leaf.pem'),
      '--certificate_chain', join(work, 'chain.pem'), '--signature', join(dir, 'model.sig'),
    ]);
    expect(sign.exitCode, sign.output).toBe(0);
    const good = await ours(['verify', dir, '--cert-chain', join(work, 'root.pem')]);
    expect(good.code, good.stdout + good.stderr).toBe(0);
    expect((await ours(['verify', dir, '--cert-chain', join(work, 'other-root.pem')])).code).toBe(8);
  });
});
