import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { createHash } from 'node:crypto';
import {
  buildPackProvenance,
  bundleReferrerManifest,
  generateSigningKeyPair,
  loadPrivateKey,
  signModelFolder,
} from '../../modules/sign/index.js';
import { makeModel, omsInterop } from './helpers.js';
import { vectorPath } from '../helpers/vectors.js';

const schemas = vectorPath('oms', 'schemas-v1.0');
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

function omsValidator(id: 'bundle' | 'statement') {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  for (const f of ['predicate', 'statement', 'envelope', 'bundle']) ajv.addSchema(JSON.parse(readFileSync(join(schemas, `${f}.schema.json`), 'utf8')) as object);
  return ajv.getSchema(`https://model_signing/${id}/v1.0/schema`)!;
}

describe('our bundles against the upstream OMS v1.0 schemas', () => {
  it('the bundle and its statement validate; a broken statement does not', async () => {
    const dir = await makeModel();
    const signed = await signModelFolder(dir, { signing: { kind: 'key', privateKey: loadPrivateKey(generateSigningKeyPair().privateKeyPem, 'k') } });
    const bundle = JSON.parse(await readFile(signed.bundlePath, 'utf8'));
    const validBundle = omsValidator('bundle');
    const validStatement = omsValidator('statement');
    expect(validBundle(bundle), JSON.stringify(validBundle.errors)).toBe(true);
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
    expect(validStatement(statement), JSON.stringify(validStatement.errors)).toBe(true);
    // the schema really checks: a wrong predicateType is refused
    expect(validStatement({ ...statement, predicateType: 'https://example.com/other' })).toBe(false);
    // and the reference implementation's own bundle passes the same validator
    expect(validBundle(JSON.parse(await readFile(join(omsInterop, 'v1.1.0-elliptic-key', 'model.sig'), 'utf8')))).toBe(true);
  });
});

describe('cosign v3 bundle referrer', () => {
  it('has the bundle artifactType, empty config, one bundle layer and the two annotations', () => {
    const bundle = Buffer.from('{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}');
    const subject = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 512, annotations: { x: 'y' } };
    const { manifest, layer } = bundleReferrerManifest(subject, bundle, 'https://model_signing/signature/v1.0');
    expect(manifest).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2, data: 'e30=' },
      layers: [{ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', digest: `sha256:${createHash('sha256').update(bundle).digest('hex')}`, size: bundle.length }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: 512 },
      annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope', 'dev.sigstore.bundle.predicateType': 'https://model_signing/signature/v1.0' },
    });
    expect(layer.bytes).toBe(bundle);
  });
});

describe('SLSA v1 provenance for the pack step', () => {
  it('records subject, source commit, spec file, base images and the builder', () => {
    const statement = buildPackProvenance({
      subjects: [{ name: 'registry.example.com/models/chat', digest: `sha256:${'b'.repeat(64)}` }],
      builder: 'github-actions',
      source: { uri: 'https://github.com/org/repo', commit: 'c'.repeat(40) },
      specFile: { path: 'modelship.yaml', sha256: 'd'.repeat(64) },
      baseImages: [{ uri: 'docker.io/library/busybox', digest: `sha256:${'e'.repeat(64)}` }],
      invocationId: 'run-7',
      startedOn: new Date('2026-01-01T00:00:00Z'),
    });
    expect(statement).toEqual({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'registry.example.com/models/chat', digest: { sha256: 'b'.repeat(64) } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {
        buildDefinition: {
          buildType: 'https://modelship.dev/buildtypes/pack/v1',
          externalParameters: { spec: 'modelship.yaml', source: { uri: 'https://github.com/org/repo', commit: 'c'.repeat(40) } },
          internalParameters: { builderKind: 'github-actions' },
          resolvedDependencies: [
            { uri: 'git+https://github.com/org/repo', digest: { gitCommit: 'c'.repeat(40) } },
            { name: 'modelship.yaml', digest: { sha256: 'd'.repeat(64) } },
            { uri: 'docker.io/library/busybox', digest: { sha256: 'e'.repeat(64) } },
          ],
        },
        runDetails: { builder: { id: 'https://modelship.dev/builders/github-actions@v1' }, metadata: { invocationId: 'run-7', startedOn: '2026-01-01T00:00:00.000Z' } },
      },
    });
    for (const builder of ['laptop', 'hook', 'dagger'] as const) {
      const p = buildPackProvenance({ subjects: [], builder }).predicate as { runDetails: { builder: { id: string } } };
      expect(p.runDetails.builder.id).toContain(builder === 'hook' ? 'git-hook' : builder);
    }
  });
});
