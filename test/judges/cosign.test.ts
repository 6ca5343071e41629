/**
 * cosign v3.1.3 judges what `modelship sign` attaches: the Sigstore bundle referrers (OCI 1.1, the
 * form `cosign verify` reads by default in v3) on a ModelPack manifest and a ModelCar index, by key
 * and keyless (the loopback Sigstore mock's trusted root), each accepted and, under another key or
 * identity, or moved to another manifest, refused.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { attachBundle, findBundles } from '../../modules/sign/artifact/index.js';
import { openReference } from '../../modules/oci/index.js';
import { runCli } from '../helpers/cli.js';
import { JUDGE_TEST_TIMEOUT, runJudge } from '../helpers/judges.js';
import { pushModel, signingKeys, signModel, signModelManifestOnly, type SigningKeys } from '../gitops/helpers.js';
import { idToken, startMockSigstore, type MockSigstore } from '../sign/artifact-sigstore.js';

const registry = inject('registry');
const ISSUER = 'https://issuer.example.test';
const SUBJECT = 'engineer@example.test';

let work: string;
let env: NodeJS.ProcessEnv;
const ours = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
  runCli(args, { env: { ...env, ...extra }, cwd: work, stdin: Object.assign(new PassThrough(), { isTTY: false }) });

async function must(args: string[], extra: NodeJS.ProcessEnv = {}) {
  const res = await ours(args, extra);
  if (res.code !== 0) throw new Error(`modelship ${args.join(' ')} failed (${res.code}): ${res.stderr}${res.stdout}`);
  return res;
}

/** cosign with no transparency log for key signatures (ours carry none, like `cosign sign --tlog-upload=false`). */
const cosign = (args: string[]) => runJudge('cosign', [...args, '--allow-http-registry'], { env: { HOME: work } });
const verifyKey = (ref: string, pub: string, ...more: string[]) => cosign(['verify', '--key', pub, '--insecure-ignore-tlog=true', '--output', 'json', ...more, ref]);

/** The docker-manifest-digest cosign reports in each verified payload. */
function verifiedDigests(stdout: string): string[] {
  return (JSON.parse(stdout) as { critical: { image: { 'docker-manifest-digest': string } } }[]).map((p) => p.critical.image['docker-manifest-digest']);
}

let ref: string;
let digest: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'judge-cosign-'));
  env = { MODELSHIP_HOME: join(work, 'home'), HOME: work };
  ref = `${registry}/judges/cosign-chat:v1`;
  const project = join(work, 'cosign-chat');
  for (const args of [
    ['example', project],
    ['pack', project, '-t', ref],
    ['keys', 'generate', '-o', join(work, 'dev')],
    ['keys', 'generate', '-o', join(work, 'other')],
    ['sbom', ref, '--attach'],
    ['sign', ref, '--key', join(work, 'dev.key'), '--provenance', '--project', project],
    ['push', ref, '--plain-http'],
  ]) await must(args);
  digest = (await must(['inspect', ref, '--plain-http', '--json'])).json().digest;
}, 240_000);

describe('cosign v3.1.3 verifies what modelship sign attaches (key)', { timeout: JUDGE_TEST_TIMEOUT }, () => {
  it('accepts the image signature on the ModelPack manifest, and refuses another key', async () => {
    const good = await verifyKey(ref, join(work, 'dev.pub'));
    expect(good.exitCode, good.output).toBe(0);
    // cosign v3 lists every bundle whose statement names the digest: the image signature and the attestations.
    expect(new Set(verifiedDigests(good.stdout))).toEqual(new Set([digest]));
    const other = await verifyKey(ref, join(work, 'other.pub'));
    expect(other.exitCode).not.toBe(0);
    expect(other.output).toMatch(/accepted signatures do not match threshold/);
  });

  it('accepts the SBOM and SLSA provenance attestations by type, and refuses another key', async () => {
    for (const type of ['cyclonedx', 'slsaprovenance1', 'https://sigstore.dev/cosign/sign/v1']) {
      const good = await cosign(['verify-attestation', '--key', join(work, 'dev.pub'), '--insecure-ignore-tlog=true', '--type', type, ref]);
      expect(good.exitCode, `${type}: ${good.output}`).toBe(0);
      const other = await cosign(['verify-attestation', '--key', join(work, 'other.pub'), '--insecure-ignore-tlog=true', '--type', type, ref]);
      expect(other.exitCode, type).not.toBe(0);
    }
  });

  it('does not count the OpenSSF model signature as an attestation of the image: its subject is the model, not the manifest digest', async () => {
    // cosign v3.1.3 pkg/cosign/verify.go verifyImageAttestationsSigstoreBundle: verify.WithArtifactDigest(manifest digest).
    const oms = await cosign(['verify-attestation', '--key', join(work, 'dev.pub'), '--insecure-ignore-tlog=true', '--type', 'https://model_signing/signature/v1.0', ref]);
    expect(oms.exitCode).not.toBe(0);
    expect(oms.output).toMatch(/none of the attestations matched the predicate type: https:\/\/model_signing\/signature\/v1\.0/);
  });

  it('refuses our signatures copied onto another manifest', async () => {
    const otherRef = `${registry}/judges/cosign-chat:forged`;
    await must(['example', join(work, 'forged')]);
    await writeFile(join(work, 'forged', 'config.json'), '{"forged":true}\n');
    await must(['pack', join(work, 'forged'), '-t', otherRef]);
    await must(['push', otherRef, '--plain-http']);
    const opened = await openReference(otherRef, { cwd: work, env: {}, plainHttp: true });
    const forged = await opened.target.resolve('forged');
    const signedRef = await openReference(ref, { cwd: work, env: {}, plainHttp: true });
    for (const found of await findBundles(signedRef.target, await signedRef.target.resolve('v1'))) {
      await attachBundle(opened.target, forged, found.bytes!, found.declaredPredicateType!);
    }
    const run = await verifyKey(otherRef, join(work, 'dev.pub'));
    expect(run.exitCode, run.output).not.toBe(0);
    expect(run.output).toMatch(/digest|no matching signatures|does not match/i);
  });
});

describe('cosign v3.1.3 verifies a signed ModelCar index (what KServe pulls)', { timeout: JUDGE_TEST_TIMEOUT }, () => {
  let keys: SigningKeys;
  beforeAll(async () => {
    keys = await signingKeys();
  });

  it('accepts the signed index, and refuses an index whose ModelPack manifest alone is signed', async () => {
    const signed = await pushModel(registry, { format: 'gguf', modelcar: true, repository: 'judges/cosign-modelcar', tag: 'signed' });
    await signModel(signed, keys);
    const good = await verifyKey(signed.reference, keys.publicFile);
    expect(good.exitCode, good.output).toBe(0);
    expect(new Set(verifiedDigests(good.stdout))).toEqual(new Set([signed.pulled.digest]));

    const inner = await pushModel(registry, { format: 'gguf', modelcar: true, repository: 'judges/cosign-modelcar', tag: 'inner', seed: 9 });
    await signModelManifestOnly(inner, keys);
    const unsignedIndex = await verifyKey(inner.reference, keys.publicFile);
    expect(unsignedIndex.exitCode).not.toBe(0);
    const byManifest = await verifyKey(`${registry}/judges/cosign-modelcar@${inner.manifest.digest}`, keys.publicFile);
    expect(byManifest.exitCode, byManifest.output).toBe(0);
  });
});

describe('cosign v3.1.3 verifies keyless signatures from the loopback Sigstore mock', { timeout: JUDGE_TEST_TIMEOUT }, () => {
  let sigstore: MockSigstore;
  beforeAll(async () => {
    sigstore = await startMockSigstore();
  });
  afterAll(() => sigstore?.close());

  it('accepts the signer identity with the mock trusted root, and refuses another identity', async () => {
    const keylessRef = `${registry}/judges/cosign-keyless:v1`;
    await must(['example', join(work, 'keyless')]);
    // Another model than the key-signed one, so only keyless bundles refer to it.
    await writeFile(join(work, 'keyless', 'config.json'), '{"keyless":true}\n');
    await must(['pack', join(work, 'keyless'), '-t', keylessRef]);
    const token = idToken({ iss: ISSUER, sub: SUBJECT, email: SUBJECT, email_verified: true, aud: 'sigstore' });
    await must(['sign', keylessRef, '--plain-http', '--keyless', '--fulcio-url', sigstore.fulcioURL, '--rekor-url', sigstore.rekorURL, '--rekor-entry-type', 'intoto'], { SIGSTORE_ID_TOKEN: token });
    await must(['push', keylessRef, '--plain-http']);
    const root = join(work, 'trusted_root.json');
    await writeFile(root, JSON.stringify(sigstore.trustedRoot));
    const verify = (identity: string) =>
      cosign(['verify', '--trusted-root', root, '--certificate-identity', identity, '--certificate-oidc-issuer', ISSUER, '--output', 'json', keylessRef]);
    const good = await verify(SUBJECT);
    expect(good.exitCode, good.output).toBe(0);
    const other = await verify('attacker@example.test');
    expect(other.exitCode).not.toBe(0);
    expect(other.output).toMatch(/none of the expected identities matched|identity/i);
  });
});
