import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  classifyLicense,
  cyclonedxLicenses,
  filesFromManifest,
  licenseExpression,
  npmPurl,
  ociDownloadUri,
  ociPurl,
  parseEvaluation,
  pypiPurl,
  readReadme,
  sbomAttachment,
  taskFromCapabilities,
  buildCycloneDx,
  validateCycloneDx,
  sbomInputFromProject,
  type SbomSpec,
} from '../../modules/sbom/index.js';
import { hasCode } from '../../modules/errors/index.js';
import type { ImageManifest } from '../../modules/oci/index.js';
import { CHAT_README, sha256Hex } from './fixtures.js';

describe('filesFromManifest', () => {
  const weight = sha256Hex('weights');
  const tar = sha256Hex('tar of code');
  const legacy = sha256Hex('legacy doc');
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: 'application/vnd.cncf.model.manifest.v1+json',
    config: { mediaType: 'application/vnd.cncf.model.config.v1+json', digest: 'sha256:' + sha256Hex('{}'), size: 2 },
    layers: [
      { mediaType: 'application/vnd.cncf.model.weight.v1.raw', digest: `sha256:${weight}`, size: 7, annotations: { 'org.cncf.model.filepath': 'model.gguf' } },
      { mediaType: 'application/vnd.cncf.model.code.v1.tar+gzip', digest: `sha256:${tar}`, size: 11, annotations: { 'org.cncf.model.filepath': 'src' } },
      { mediaType: 'application/vnd.cnai.model.doc.v1.tar', digest: `sha256:${legacy}`, size: 10, annotations: { 'org.cnai.model.filepath': 'README.md' } },
      { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${legacy}`, size: 10 },
    ],
  };

  it('takes paths from annotations and hashes from layer digests (tar layers marked as archives)', () => {
    expect(filesFromManifest(manifest)).toEqual([
      { path: 'model.gguf', kind: 'weight', size: 7, sha256: weight, mediaType: 'application/vnd.cncf.model.weight.v1.raw' },
      { path: 'src', kind: 'code', size: 11, sha256: tar, mediaType: 'application/vnd.cncf.model.code.v1.tar+gzip', archive: true },
      { path: 'README.md', kind: 'doc', size: 10, sha256: legacy, mediaType: 'application/vnd.cnai.model.doc.v1.tar', archive: true },
    ]);
  });

  it('feeds an SBOM that records the archive hash as such', () => {
    const bom = buildCycloneDx({ spec: { descriptor: { name: 'm' }, config: {}, files: [] }, files: filesFromManifest(manifest) }) as Record<string, any>;
    expect(validateCycloneDx(bom)).toEqual([]);
    const src = bom.components.find((c: { name: string }) => c.name === 'src');
    expect(src.properties).toContainEqual({ name: 'modelpack:hash.of', value: 'layer-archive' });
  });

  it('refuses a model layer without a path, naming the layer', () => {
    const bad = { ...manifest, layers: [{ mediaType: 'application/vnd.cncf.model.weight.v1.raw', digest: `sha256:${weight}`, size: 1 }] };
    let err: unknown;
    try {
      filesFromManifest(bad);
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, 'SBOM_INVALID')).toBe(true);
    expect((err as Error).message).toContain('layers[0]');
  });
});

describe('purls', () => {
  it('follows the purl spec for pypi, npm and oci', () => {
    expect(pypiPurl('Zope.Interface', '6.4')).toBe('pkg:pypi/zope-interface@6.4');
    expect(pypiPurl('Django_REST-framework')).toBe('pkg:pypi/django-rest-framework');
    expect(npmPurl('@angular/core', '17.0.0')).toBe('pkg:npm/%40angular/core@17.0.0');
    expect(npmPurl('left-pad', '1.3.0')).toBe('pkg:npm/left-pad@1.3.0');
    const d = 'sha256:' + '0'.repeat(64);
    const registry = { host: 'ghcr.io', repository: 'acme/models/llama', tag: '3.1' };
    expect(ociPurl({ reference: 'ghcr.io/acme/models/llama:3.1', registry }, d)).toBe(`pkg:oci/llama@sha256%3A${'0'.repeat(64)}?repository_url=ghcr.io/acme/models/llama&tag=3.1`);
    expect(ociPurl({ reference: 'oci:./store/chat:v1' }, d)).toBe(`pkg:oci/chat@sha256%3A${'0'.repeat(64)}?tag=v1`);
    // A local-store name is not a Docker Hub repository.
    expect(ociPurl({ reference: 'models/plain:v1' }, d)).toBe(`pkg:oci/plain@sha256%3A${'0'.repeat(64)}?tag=v1`);
    expect(ociDownloadUri({ registry, digest: d })).toBe(`oci://ghcr.io/acme/models/llama@${d}`);
    expect(ociDownloadUri({ digest: d })).toBeUndefined();
  });
});

describe('licences', () => {
  it('tells SPDX ids, expressions, LicenseRefs and names apart', () => {
    expect(classifyLicense('apache-2.0')).toEqual({ kind: 'id', id: 'Apache-2.0' });
    expect(classifyLicense('mit or (apache-2.0 with LLVM-exception)')).toEqual({ kind: 'expression', expression: 'MIT OR (Apache-2.0 WITH LLVM-exception)' });
    expect(classifyLicense('LicenseRef-acme')).toEqual({ kind: 'expression', expression: 'LicenseRef-acme' });
    expect(classifyLicense('openrail')).toEqual({ kind: 'name', name: 'openrail' });
    expect(classifyLicense('MIT AND')).toEqual({ kind: 'name', name: 'MIT AND' });
    expect(licenseExpression(['MIT', 'GPL-2.0-only OR MIT', 'llama3.1'])).toBe('MIT AND (GPL-2.0-only OR MIT) AND LicenseRef-llama3.1');
    expect(cyclonedxLicenses(['MIT', 'LicenseRef-acme'])).toEqual([{ expression: 'MIT AND LicenseRef-acme' }]);
    expect(cyclonedxLicenses([])).toBeUndefined();
  });
});

describe('README and evaluation files', () => {
  it('reads front matter, model-index and considerations', () => {
    const facts = readReadme(CHAT_README);
    expect(facts.card).toMatchObject({ pipelineTag: 'text-generation', license: 'apache-2.0', languages: ['en', 'fr'], datasets: ['OpenAssistant/oasst1'] });
    expect(facts.evaluation).toEqual([{ metric: 'accuracy', value: 0.412, task: 'text-generation', dataset: 'MMLU' }]);
    expect(facts.card.considerations?.useCases).toHaveLength(2);
  });

  it('names the line of broken front matter', () => {
    let err: unknown;
    try {
      readReadme('---\nlicense: [mit\n---\n# x\n', 'models/README.md');
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, 'CARD_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/^models\/README\.md:\d+: front matter is not valid YAML/);
  });

  it('reads eval_results in list, lm-evaluation-harness and model-index shapes, and rejects rows without a dataset', () => {
    expect(parseEvaluation('- {task: qa, dataset: squad, metric: f1, value: 88.5}\n', 'eval_results.yaml')).toEqual([{ task: 'qa', dataset: 'squad', metric: 'f1', value: 88.5 }]);
    expect(parseEvaluation('{"results":{"hellaswag":{"acc,none":0.41,"acc_stderr,none":0.01}}}', 'eval_results.json')).toEqual([{ metric: 'acc', value: 0.41, task: 'hellaswag', dataset: 'hellaswag' }]);
    expect(parseEvaluation('model-index:\n  - name: m\n    results:\n      - task: {type: qa}\n        metrics: [{type: em, value: 1}]\n', 'e.yaml')).toEqual([{ metric: 'em', value: 1, task: 'qa' }]);
    expect(() => parseEvaluation('[{"value": 1}]', 'eval_results.json')).toThrow(/^eval_results\.json: results\[0\] needs "dataset"/);
  });

  it('maps ModelPack capabilities to a task', () => {
    expect(taskFromCapabilities(['text'], ['text'])).toBe('text-generation');
    expect(taskFromCapabilities(['text', 'image'], ['text'])).toBe('image-text-to-text');
    expect(taskFromCapabilities(['text'], ['embedding'])).toBe('feature-extraction');
    expect(taskFromCapabilities([], [])).toBeUndefined();
  });
});

describe('sbomAttachment', () => {
  it('uses the artifact types Trivy uses', () => {
    expect(sbomAttachment({ a: 1 }, 'cyclonedx')).toMatchObject({ artifactType: 'application/vnd.cyclonedx+json', mediaType: 'application/vnd.cyclonedx+json' });
    const spdx = sbomAttachment({ a: 1 }, 'spdx');
    expect(spdx.artifactType).toBe('application/spdx+json');
    expect(new TextDecoder().decode(spdx.bytes)).toBe('{\n  "a": 1\n}\n');
  });
});

describe('sbomInputFromProject', () => {
  it('reads an entry of "." as the whole folder, as packing does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sbom-dot-'));
    await mkdir(join(dir, 'src'));
    await writeFile(join(dir, 'model.gguf'), 'weights');
    await writeFile(join(dir, 'src', 'serve.py'), 'print(1)\n');
    const input = await sbomInputFromProject(dir, {
      descriptor: {},
      config: {},
      files: [{ kind: 'weight', path: 'model.gguf' }, { kind: 'code', path: '.' }],
    } as SbomSpec);
    expect(input.files.map((f) => [f.path, f.kind])).toEqual([['model.gguf', 'weight'], ['src/serve.py', 'code']]);
    expect(input.files[0]!.sha256).toBe(sha256Hex('weights'));
  });
});
