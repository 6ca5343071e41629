/**
 * SPDX 3.0.1 JSON-LD with the AI and Dataset profiles: the model as an `ai_AIPackage`, datasets
 * as `dataset_DatasetPackage`, files with their SHA-256, dependencies as `software_Package`, and
 * exactly one concluded and one declared licence relationship per package.
 */
import type { Dependency, SbomFile, SbomInput } from './input.js';
import { isoSeconds, modelFacts, uuidFrom, type ModelFacts } from './facts.js';
import { licenseExpression } from './license.js';
import { modelshipVersion } from './locate.js';
import { huggingfacePurl, ociDownloadUri, ociPurl, parseHubSourceUri } from './purl.js';

export const SPDX_MEDIA_TYPE = 'application/spdx+json';
export const SPDX_CONTEXT = 'https://spdx.org/rdf/3.0.1/spdx-context.jsonld';
export const SPDX_VERSION = '3.0.1';
/** SPDX 3 individuals that stand in for "not known" in licence relationships. */
export const NO_ASSERTION_LICENSE = 'expandedlicensing_NoAssertionLicense';
/** Reproducible documents record this creation time unless a timestamp is asked for. */
export const REPRODUCIBLE_CREATED = '1970-01-01T00:00:00Z';

type Json = Record<string, unknown>;

const PURPOSE_BY_KIND: Record<SbomFile['kind'], string> = {
  weight: 'model',
  weightConfig: 'configuration',
  doc: 'documentation',
  code: 'source',
  dataset: 'data',
};

/** Local ids are readable and stable: derived from names, made unique by a counter. */
class IdMinter {
  private readonly used = new Set<string>();
  /** The first suffix not yet tried per id, so 10k relationships of one type do not probe 2..n each time. */
  private readonly nextSuffix = new Map<string, number>();
  constructor(readonly base: string) {}
  mint(kind: string, name: string): string {
    const slug = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80) || 'x';
    const plain = `${this.base}#${kind}-${slug}`;
    let id = plain;
    let n = this.nextSuffix.get(plain) ?? 2;
    if (this.used.has(id)) for (id = `${plain}-${n}`; this.used.has(id); ) id = `${plain}-${++n}`;
    if (id !== plain) this.nextSuffix.set(plain, n + 1);
    this.used.add(id);
    return id;
  }
}

export function buildSpdx(input: SbomInput): Json {
  const f = modelFacts(input);
  const tool = input.tool ?? { name: 'modelship', version: modelshipVersion() };
  const docUuid = uuidFrom(f.seed, 'spdx');
  const ids = new IdMinter(`https://spdx.org/spdxdocs/${slug(f.name)}-${docUuid}`);
  const ci = '_:creationinfo';
  const graph: Json[] = [];
  const relationships: Json[] = [];
  const relate = (from: string, type: string, to: string[]) => {
    if (to.length === 0) return;
    relationships.push({ type: 'Relationship', spdxId: ids.mint('rel', `${type}`), creationInfo: ci, from, relationshipType: type, to });
  };

  const toolId = ids.mint('tool', `${tool.name}-${tool.version}`);
  const agentId = ids.mint('agent', tool.name);
  graph.push({
    type: 'CreationInfo',
    '@id': ci,
    specVersion: SPDX_VERSION,
    created: creationTime(input, f),
    createdBy: [agentId],
    createdUsing: [toolId],
  });
  graph.push({ type: 'SoftwareAgent', spdxId: agentId, creationInfo: ci, name: tool.name });
  graph.push({ type: 'Tool', spdxId: toolId, creationInfo: ci, name: `${tool.name} ${tool.version}` });

  const supplierId = f.vendor ? ids.mint('org', f.vendor) : undefined;
  if (supplierId) graph.push({ type: 'Organization', spdxId: supplierId, creationInfo: ci, name: f.vendor });
  const authorIds = f.authors.map((name) => {
    const id = ids.mint('person', name);
    graph.push({ type: 'Person', spdxId: id, creationInfo: ci, name });
    return id;
  });

  // One expression element per distinct licence text, shared by every package that declares it.
  const licenseIds = new Map<string, string>();
  const licenseElement = (expression: string | undefined): string => {
    if (!expression) return NO_ASSERTION_LICENSE;
    let id = licenseIds.get(expression);
    if (!id) {
      id = ids.mint('license', expression);
      licenseIds.set(expression, id);
      graph.push({ type: 'simplelicensing_LicenseExpression', spdxId: id, creationInfo: ci, simplelicensing_licenseExpression: expression });
    }
    return id;
  };
  const licensed = (pkg: string, declared: string | undefined) => {
    relate(pkg, 'hasDeclaredLicense', [licenseElement(declared)]);
    // Nothing here is a licence scan: the concluded licence stays NOASSERTION.
    relate(pkg, 'hasConcludedLicense', [NO_ASSERTION_LICENSE]);
  };

  const modelId = ids.mint('model', f.name);
  graph.push(aiPackage(input, f, modelId, ci, supplierId, authorIds));
  licensed(modelId, licenseExpression(f.licenses));

  const fileIds = f.modelFiles.map((file) => {
    const id = ids.mint('file', file.path);
    graph.push(fileElement(file, id, ci));
    return id;
  });
  relate(modelId, 'contains', fileIds);
  const manifest = input.artifact?.modelManifest;
  if (input.artifact && manifest) {
    // A ModelCar: the reference resolves to the index; the ModelPack manifest is a part of it.
    const manifestId = ids.mint('package', 'modelpack-manifest');
    graph.push({
      type: 'software_Package',
      spdxId: manifestId,
      creationInfo: ci,
      name: `${f.name} ModelPack manifest`,
      verifiedUsing: [sha256(manifest.digest.replace(/^sha256:/, ''))],
      software_packageUrl: ociPurl(input.artifact, manifest.digest),
      software_primaryPurpose: 'model',
      comment: `${manifest.mediaType} listed in the index ${input.artifact.digest}`,
    });
    licensed(manifestId, licenseExpression(f.licenses));
    relate(modelId, 'contains', [manifestId]);
  }

  const trained: string[] = [];
  const tested: string[] = [];
  for (const d of f.datasets) {
    const id = ids.mint('dataset', d.name);
    graph.push({
      type: 'dataset_DatasetPackage',
      spdxId: id,
      creationInfo: ci,
      name: d.name,
      ...(d.description ? { description: d.description } : {}),
      ...(d.files.length === 1 ? { verifiedUsing: [sha256(d.files[0]!.sha256)] } : {}),
      ...(f.datasetsURL ? { software_downloadLocation: f.datasetsURL } : {}),
      software_primaryPurpose: 'data',
      dataset_datasetType: d.datasetTypes,
    });
    licensed(id, licenseExpression(d.licenses));
    relate(
      id,
      'contains',
      d.files.map((file) => {
        const fid = ids.mint('file', file.path);
        graph.push(fileElement(file, fid, ci));
        return fid;
      }),
    );
    (d.role === 'testing' ? tested : trained).push(id);
  }
  relate(modelId, 'trainedOn', trained);
  relate(modelId, 'testedOn', tested);

  const deps = input.dependencies ?? [];
  const depIds = new Map(deps.map((dep) => [dep.purl, ids.mint('package', `${dep.name}-${dep.version ?? 'unversioned'}`)]));
  for (const dep of deps) {
    const id = depIds.get(dep.purl)!;
    graph.push(packageElement(dep, id, ci));
    licensed(id, undefined);
  }
  relate(modelId, 'dependsOn', deps.filter((d) => d.direct && d.scope === 'required').map((d) => depIds.get(d.purl)!));
  relate(modelId, 'hasOptionalDependency', deps.filter((d) => d.direct && d.scope === 'optional').map((d) => depIds.get(d.purl)!));
  for (const dep of deps) {
    relate(depIds.get(dep.purl)!, 'dependsOn', (dep.dependsOn ?? []).map((p) => depIds.get(p)).filter((x): x is string => x !== undefined));
  }

  graph.push(...relationships);
  const docId = ids.mint('document', f.name);
  const dataLicenseId = licenseElement('CC0-1.0');
  const elements = graph.filter((g) => typeof g['spdxId'] === 'string').map((g) => g['spdxId'] as string);
  graph.push({
    type: 'SpdxDocument',
    spdxId: docId,
    creationInfo: ci,
    name: `SBOM for ${f.name}${f.version ? ' ' + f.version : ''}`,
    dataLicense: dataLicenseId,
    profileConformance: ['core', 'software', 'simpleLicensing', 'ai', 'dataset'],
    rootElement: [modelId],
    element: elements,
  });
  return { '@context': SPDX_CONTEXT, '@graph': graph };
}

function aiPackage(input: SbomInput, f: ModelFacts, id: string, ci: string, supplierId: string | undefined, authorIds: string[]): Json {
  const hyper = (
    [
      ['paramSize', f.paramSize],
      ['precision', f.precision],
      ['quantization', f.quantization],
      ['format', f.format],
    ] as const
  )
    .filter(([, v]) => v !== undefined)
    .map(([key, value]) => ({ type: 'DictionaryEntry', key, value: value! }));
  const metrics = (input.evaluation ?? []).map((r) => ({
    type: 'DictionaryEntry',
    key: [r.metric, r.task, r.dataset].filter(Boolean).join(' / '),
    value: String(r.value),
  }));
  const c = input.modelCard?.considerations ?? {};
  const typeOfModel = [f.architecture, f.family].filter((x): x is string => x !== undefined);
  const releaseTime = f.createdAt ? isoSeconds(f.createdAt) : undefined;
  return {
    type: 'ai_AIPackage',
    spdxId: id,
    creationInfo: ci,
    name: f.name,
    ...(f.description ? { description: f.description } : {}),
    ...(input.artifact ? { verifiedUsing: [sha256(input.artifact.digest.replace(/^sha256:/, ''))] } : {}),
    ...(releaseTime && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(releaseTime) ? { releaseTime } : {}),
    ...(supplierId ? { suppliedBy: supplierId } : {}),
    ...(authorIds.length ? { originatedBy: authorIds } : {}),
    ...(f.version ? { software_packageVersion: f.version } : {}),
    ...(input.artifact ? { software_packageUrl: ociPurl(input.artifact, input.artifact.digest) } : {}),
    ...(input.artifact && ociDownloadUri(input.artifact) ? { software_downloadLocation: ociDownloadUri(input.artifact) } : {}),
    ...(f.docURL ? { software_homePage: f.docURL } : {}),
    ...hubSourceFields(input.artifact?.source),
    software_primaryPurpose: 'model',
    ...(typeOfModel.length ? { ai_typeOfModel: [...new Set(typeOfModel)] } : {}),
    ...(f.task ? { ai_domain: [f.task] } : {}),
    ...(hyper.length ? { ai_hyperparameter: hyper } : {}),
    ...(metrics.length ? { ai_metric: metrics } : {}),
    ...(c.technicalLimitations?.length ? { ai_limitation: c.technicalLimitations.join('\n') } : {}),
    ...(c.useCases?.length ? { ai_informationAboutApplication: c.useCases.join('\n') } : {}),
    ai_autonomyType: 'noAssertion',
  };
}

/** An import from the Hub: its purl as an external identifier and the hf:// source as source information. */
function hubSourceFields(source: string | undefined): Record<string, unknown> {
  const hub = parseHubSourceUri(source);
  if (!hub) return {};
  return {
    externalIdentifier: [{ type: 'ExternalIdentifier', externalIdentifierType: 'packageUrl', identifier: huggingfacePurl(hub.repo, hub.sha) }],
    software_sourceInfo: `imported from ${source}`,
  };
}

const SPDX_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

/** An asked-for timestamp, else the artifact's creation time, else the caller's now (or SOURCE_DATE_EPOCH). */
function creationTime(input: SbomInput, f: ModelFacts): string {
  for (const t of [input.timestamp, f.createdAt, input.created]) {
    const at = t === undefined ? undefined : isoSeconds(t);
    if (at && SPDX_TIME.test(at)) return at;
  }
  return REPRODUCIBLE_CREATED;
}

function fileElement(file: SbomFile, id: string, ci: string): Json {
  return {
    type: 'software_File',
    spdxId: id,
    creationInfo: ci,
    name: file.path,
    // A tar layer's digest is of the archive that holds this path.
    ...(file.archive ? { comment: 'hash is of the tar layer that holds this file' } : {}),
    verifiedUsing: [sha256(file.sha256)],
    software_primaryPurpose: PURPOSE_BY_KIND[file.kind],
    software_fileKind: 'file',
  };
}

function packageElement(dep: Dependency, id: string, ci: string): Json {
  return {
    type: 'software_Package',
    spdxId: id,
    creationInfo: ci,
    name: dep.name,
    ...(dep.hashes?.length ? { verifiedUsing: dep.hashes.map((h) => ({ type: 'Hash', algorithm: h.alg === 'SHA-256' ? 'sha256' : 'sha512', hashValue: h.hex })) } : {}),
    ...(dep.version ? { software_packageVersion: dep.version } : {}),
    software_packageUrl: dep.purl,
    software_primaryPurpose: 'library',
    ...(dep.versionRange ? { comment: `declared as ${dep.versionRange} in ${dep.source}` } : {}),
  };
}

const sha256 = (hex: string): Json => ({ type: 'Hash', algorithm: 'sha256', hashValue: hex });

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'model';
}
