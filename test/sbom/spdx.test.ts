import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSpdx, sbomInputFromProject, serializeSbom, spdxMinimums, validateSpdx, NO_ASSERTION_LICENSE, type SbomInput } from '../../modules/sbom/index.js';
import { chatProject, codeProject, safetensorsProject, type Project } from './fixtures.js';

type El = Record<string, any>;
const graphOf = (doc: Record<string, any>): El[] => doc['@graph'];
const byType = (doc: Record<string, any>, type: string) => graphOf(doc).filter((e) => e.type === type);
const rels = (doc: Record<string, any>, from: string, type: string): string[] =>
  byType(doc, 'Relationship').filter((r) => r.from === from && r.relationshipType === type).flatMap((r) => r.to);

const artifact = {
  reference: '127.0.0.1:5000/team/tiny-chat:1.0.0',
  digest: 'sha256:' + 'ab'.repeat(32),
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  registry: { host: '127.0.0.1:5000', repository: 'team/tiny-chat', tag: '1.0.0' },
};

describe('SPDX 3.0.1: GGUF chat model', () => {
  let p: Project;
  let input: SbomInput;
  let doc: Record<string, any>;
  beforeAll(async () => {
    p = await chatProject();
    input = { ...(await sbomInputFromProject(p.dir, p.spec)), artifact };
    doc = buildSpdx(input);
  });
  afterAll(() => p.cleanup());

  it('validates against the SPDX 3.0.1 schema and the minimums', () => {
    expect(doc['@context']).toBe('https://spdx.org/rdf/3.0.1/spdx-context.jsonld');
    expect(validateSpdx(doc)).toEqual([]);
  });

  it('describes the model as an ai_AIPackage with the artifact, purl and AI fields', () => {
    const [model] = byType(doc, 'ai_AIPackage');
    expect(model).toMatchObject({
      name: 'tiny-chat',
      software_packageVersion: '1.0.0',
      software_downloadLocation: `oci://127.0.0.1:5000/team/tiny-chat@${artifact.digest}`,
      software_packageUrl: `pkg:oci/tiny-chat@sha256%3A${'ab'.repeat(32)}?repository_url=127.0.0.1:5000/team/tiny-chat&tag=1.0.0`,
      software_primaryPurpose: 'model',
      ai_typeOfModel: ['llama'],
      ai_domain: ['text-generation'],
      verifiedUsing: [{ type: 'Hash', algorithm: 'sha256', hashValue: 'ab'.repeat(32) }],
    });
    expect(model.ai_hyperparameter).toContainEqual({ type: 'DictionaryEntry', key: 'quantization', value: 'Q4_K_M' });
    expect(model.ai_metric).toContainEqual({ type: 'DictionaryEntry', key: 'acc_norm / text-generation / hellaswag', value: '0.55' });
    expect(model.ai_limitation).toContain('English and French only');
    const supplier = graphOf(doc).find((e) => e.spdxId === model.suppliedBy);
    expect(supplier).toMatchObject({ type: 'Organization', name: 'Example Labs' });
    expect(graphOf(doc).find((e) => e.spdxId === model.originatedBy[0])).toMatchObject({ type: 'Person', name: 'Ada Lovelace' });
    const [declared] = rels(doc, model.spdxId, 'hasDeclaredLicense');
    expect(graphOf(doc).find((e) => e.spdxId === declared)?.simplelicensing_licenseExpression).toBe('Apache-2.0');
    expect(rels(doc, model.spdxId, 'hasConcludedLicense')).toEqual([NO_ASSERTION_LICENSE]);
  });

  it('gives each file its input SHA-256 and puts it in the model', () => {
    const files = byType(doc, 'software_File');
    for (const f of files) expect(f.verifiedUsing).toEqual([{ type: 'Hash', algorithm: 'sha256', hashValue: p.digests[f.name] }]);
    const model = byType(doc, 'ai_AIPackage')[0]!;
    expect(rels(doc, model.spdxId, 'contains').sort()).toEqual(files.map((f) => f.spdxId).sort());
  });

  it('is deterministic', () => {
    expect(Buffer.from(serializeSbom(buildSpdx(structuredClone(input)))).equals(Buffer.from(serializeSbom(doc)))).toBe(true);
    expect(byType(doc, 'CreationInfo')[0]!.created).toBe('1970-01-01T00:00:00Z');
    const timed = buildSpdx({ ...input, timestamp: '2026-03-04T05:06:07.890Z' });
    expect(byType(timed, 'CreationInfo')[0]!.created).toBe('2026-03-04T05:06:07Z');
    expect(validateSpdx(timed)).toEqual([]);
  });

  it('records the artifact creation time when packing recorded one, else the given now', () => {
    const withCreated = { ...input, modelConfig: { ...input.modelConfig, descriptor: { ...(input.modelConfig?.['descriptor'] as object), createdAt: '2025-11-12T13:14:15Z' } } };
    expect(byType(buildSpdx({ ...withCreated, created: '2026-01-01T00:00:00Z' }), 'CreationInfo')[0]!.created).toBe('2025-11-12T13:14:15Z');
    expect(byType(buildSpdx({ ...input, created: '2026-01-01T00:00:00.123Z' }), 'CreationInfo')[0]!.created).toBe('2026-01-01T00:00:00Z');
  });
});

describe('SPDX 3.0.1: safetensors model with two datasets', () => {
  let p: Project;
  let doc: Record<string, any>;
  beforeAll(async () => {
    p = await safetensorsProject();
    doc = buildSpdx(await sbomInputFromProject(p.dir, p.spec));
  });
  afterAll(() => p.cleanup());

  it('validates, types the datasets and links them as training and test data', () => {
    expect(validateSpdx(doc)).toEqual([]);
    const sets = byType(doc, 'dataset_DatasetPackage');
    expect(sets.map((s) => [s.name, s.dataset_datasetType])).toEqual([
      ['reviews-train', ['structured']],
      ['reviews-test', ['structured']],
    ]);
    const model = byType(doc, 'ai_AIPackage')[0]!;
    expect(rels(doc, model.spdxId, 'trainedOn')).toEqual([sets[0]!.spdxId]);
    expect(rels(doc, model.spdxId, 'testedOn')).toEqual([sets[1]!.spdxId]);
    const expr = (id: string) => graphOf(doc).find((e) => e.spdxId === rels(doc, id, 'hasDeclaredLicense')[0])?.simplelicensing_licenseExpression;
    expect(expr(sets[0]!.spdxId)).toBe('CC-BY-4.0');
    expect(expr(sets[1]!.spdxId)).toBe('CC-BY-SA-4.0 OR MIT');
    // A Hugging Face licence id that SPDX does not list becomes a LicenseRef.
    expect(expr(model.spdxId)).toBe('MIT AND LicenseRef-llama3.1');
    const trainFile = graphOf(doc).find((e) => e.spdxId === rels(doc, sets[0]!.spdxId, 'contains')[0]);
    expect(trainFile).toMatchObject({ name: 'data/train/reviews.csv', verifiedUsing: [{ type: 'Hash', algorithm: 'sha256', hashValue: p.digests['data/train/reviews.csv'] }] });
  });
});

describe('SPDX 3.0.1: code with lock files', () => {
  let p: Project;
  let doc: Record<string, any>;
  beforeAll(async () => {
    p = await codeProject();
    doc = buildSpdx(await sbomInputFromProject(p.dir, p.spec));
  });
  afterAll(() => p.cleanup());

  it('validates and lists packages with purls, one licence of each kind and the graph', () => {
    expect(validateSpdx(doc)).toEqual([]);
    const pkgs = byType(doc, 'software_Package');
    const purls = pkgs.map((x) => x.software_packageUrl);
    expect(purls).toContain('pkg:npm/%40huggingface/transformers@3.0.2');
    expect(purls).toContain('pkg:pypi/zope-interface@6.4');
    const fastapi = pkgs.find((x) => x.software_packageUrl === 'pkg:pypi/fastapi@0.111.0')!;
    const deps = rels(doc, fastapi.spdxId, 'dependsOn').map((id) => pkgs.find((x) => x.spdxId === id)!.software_packageUrl);
    expect(deps).toEqual(['pkg:pypi/pydantic@2.7.1', 'pkg:pypi/starlette@0.37.2']);
    const model = byType(doc, 'ai_AIPackage')[0]!;
    const optional = rels(doc, model.spdxId, 'hasOptionalDependency').map((id) => pkgs.find((x) => x.spdxId === id)!.software_packageUrl);
    expect(optional).toContain('pkg:npm/vitest@1.6.0');
    for (const pkg of pkgs) expect(rels(doc, pkg.spdxId, 'hasDeclaredLicense')).toEqual([NO_ASSERTION_LICENSE]);
  });
});

describe('validateSpdx minimums', () => {
  const base = () => buildSpdx({
    spec: { descriptor: { name: 'm', licenses: ['MIT'] }, config: {}, files: [{ kind: 'dataset', path: 'data.csv', name: 'd' }] },
    files: [{ path: 'data.csv', kind: 'dataset', size: 3, sha256: 'e'.repeat(64) }],
  }) as Record<string, any>;

  it('accepts the document as built', () => expect(validateSpdx(base())).toEqual([]));

  it('catches a package with two declared licences', () => {
    const doc = base();
    const model = byType(doc, 'ai_AIPackage')[0]!;
    const rel = byType(doc, 'Relationship').find((r) => r.from === model.spdxId && r.relationshipType === 'hasDeclaredLicense')!;
    rel.to = [...rel.to, NO_ASSERTION_LICENSE];
    expect(spdxMinimums(doc)).toEqual([expect.objectContaining({ message: expect.stringContaining('2 hasDeclaredLicense relationships') })]);
  });

  it('catches a missing concluded licence', () => {
    const doc = base();
    doc['@graph'] = graphOf(doc).filter((e) => e.relationshipType !== 'hasConcludedLicense');
    expect(spdxMinimums(doc).filter((e) => e.message.includes('0 hasConcludedLicense'))).toHaveLength(2);
  });

  it('catches a dataset without datasetType, in the schema and in the minimums', () => {
    const doc = base();
    delete byType(doc, 'dataset_DatasetPackage')[0]!.dataset_datasetType;
    expect(spdxMinimums(doc)).toEqual([expect.objectContaining({ path: expect.stringMatching(/dataset_datasetType$/) })]);
    expect(validateSpdx(doc).length).toBeGreaterThan(1);
  });

  it('catches duplicate spdxIds and relationships to elements that are not there', () => {
    const doc = base();
    const files = byType(doc, 'software_File');
    doc['@graph'].push({ ...files[0], name: 'copy' });
    byType(doc, 'Relationship')[0]!.to = ['https://example.com/nowhere'];
    const messages = spdxMinimums(doc).map((e) => e.message);
    expect(messages.some((m) => m.includes('is also the id of'))).toBe(true);
    expect(messages.some((m) => m.includes('"https://example.com/nowhere" is not in the document'))).toBe(true);
  });

  it('reports schema errors such as an unknown hash algorithm', () => {
    const doc = base();
    byType(doc, 'software_File')[0]!.verifiedUsing[0].algorithm = 'sha257';
    expect(validateSpdx(doc).length).toBeGreaterThan(0);
  });
});
