/**
 * CycloneDX 1.6 ML-BOM: the model as a `machine-learning-model` component with its model card,
 * datasets as `data` components, every file with the SHA-256 packing recorded, and the code's
 * dependencies as `library` components with purls and a dependency graph.
 */
import type { Dependency, SbomArtifact, SbomFile, SbomInput } from './input.js';
import { isoSeconds, modelFacts, uuidFrom, type DatasetFacts, type ModelFacts } from './facts.js';
import { cyclonedxLicenses } from './license.js';
import { modelshipVersion } from './locate.js';
import { huggingfacePurl, ociDownloadUri, ociPurl, parseHubSourceUri } from './purl.js';

export const CYCLONEDX_MEDIA_TYPE = 'application/vnd.cyclonedx+json';
export const CYCLONEDX_SPEC_VERSION = '1.6';

type Json = Record<string, unknown>;

export function buildCycloneDx(input: SbomInput): Json {
  const facts = modelFacts(input);
  const tool = input.tool ?? { name: 'modelship', version: modelshipVersion() };
  const modelRef = input.artifact ? ociPurl(input.artifact, input.artifact.digest) : `model:${facts.name}${facts.version ? '@' + facts.version : ''}`;
  const datasetRefs = new Map(facts.datasets.map((d) => [d, `dataset:${d.name}`]));
  const libraries = input.dependencies ?? [];

  const metadata: Json = {
    ...(input.timestamp ? { timestamp: isoSeconds(input.timestamp) } : {}),
    tools: { components: [{ type: 'application', name: tool.name, version: tool.version }] },
    component: modelComponent(input, facts, modelRef, [...datasetRefs.values()]),
  };
  const manifest = input.artifact?.modelManifest;
  const components = [
    // A ModelCar: the reference resolves to the index; the ModelPack manifest is a part of it.
    ...(input.artifact && manifest ? [manifestComponent(facts.name, ociPurl(input.artifact, manifest.digest), manifest)] : []),
    ...facts.modelFiles.map(fileComponent),
    ...facts.datasets.map((d) => dataComponent(d, datasetRefs.get(d)!)),
    ...libraries.map(libraryComponent),
  ];
  const dependencies = [
    { ref: modelRef, dependsOn: libraries.filter((l) => l.direct).map((l) => l.purl) },
    ...libraries.map((l) => ({ ref: l.purl, dependsOn: l.dependsOn ?? [] })),
  ].map((d) => (d.dependsOn.length ? d : { ref: d.ref }));

  return {
    $schema: 'http://cyclonedx.org/schema/bom-1.6.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: CYCLONEDX_SPEC_VERSION,
    serialNumber: `urn:uuid:${uuidFrom(facts.seed, 'cyclonedx')}`,
    version: 1,
    metadata,
    ...(components.length ? { components } : {}),
    dependencies,
  };
}

function manifestComponent(name: string, ref: string, manifest: NonNullable<SbomArtifact['modelManifest']>): Json {
  return {
    type: 'file',
    'bom-ref': ref,
    name: `${name} ModelPack manifest`,
    description: manifest.mediaType,
    hashes: [{ alg: 'SHA-256', content: manifest.digest.replace(/^sha256:/, '') }],
    purl: ref,
  };
}

/** The Hub repository at the commit the model was imported from, named by its purl. */
function hubAncestor(hub: { repo: string; sha: string }): Json {
  const purl = huggingfacePurl(hub.repo, hub.sha);
  const [group, name] = hub.repo.includes('/') ? hub.repo.split('/') : [undefined, hub.repo];
  return { type: 'machine-learning-model', 'bom-ref': purl, ...(group ? { group } : {}), name: name!, version: hub.sha, purl };
}

function modelComponent(input: SbomInput, f: ModelFacts, ref: string, datasetRefs: string[]): Json {
  const licenses = cyclonedxLicenses(f.licenses);
  const externalReferences: Json[] = [];
  const download = input.artifact ? ociDownloadUri(input.artifact) : undefined;
  if (download) externalReferences.push({ type: 'distribution', url: download, comment: `OCI artifact ${input.artifact!.reference}` });
  if (f.docURL) externalReferences.push({ type: 'documentation', url: f.docURL });
  if (f.sourceURL) externalReferences.push({ type: 'vcs', url: f.sourceURL });
  const hub = parseHubSourceUri(input.artifact?.source);
  if (hub) externalReferences.push({ type: 'distribution', url: input.artifact!.source!, comment: `imported from the Hugging Face Hub, commit ${hub.sha}` });
  const properties = (
    [
      ['format', f.format],
      ['paramSize', f.paramSize],
      ['precision', f.precision],
      ['quantization', f.quantization],
      ['family', f.family],
      ['languages', f.languages.length ? f.languages.join(',') : undefined],
    ] as const
  )
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ({ name: `modelpack:config.${k}`, value: v! }));
  return {
    type: 'machine-learning-model',
    'bom-ref': ref,
    ...(f.vendor ? { supplier: { name: f.vendor } } : {}),
    ...(f.authors.length ? { authors: f.authors.map((name) => ({ name })) } : {}),
    name: f.name,
    ...(f.version ? { version: f.version } : {}),
    ...(f.description ? { description: f.description } : {}),
    ...(input.artifact ? { hashes: [{ alg: 'SHA-256', content: input.artifact.digest.replace(/^sha256:/, '') }] } : {}),
    ...(licenses ? { licenses } : {}),
    ...(input.artifact ? { purl: ref } : {}),
    ...(externalReferences.length ? { externalReferences } : {}),
    ...(hub ? { pedigree: { ancestors: [hubAncestor(hub)] } } : {}),
    modelCard: modelCard(input, f, datasetRefs),
    ...(properties.length ? { properties } : {}),
  };
}

function modelCard(input: SbomInput, f: ModelFacts, datasetRefs: string[]): Json {
  const params: Json = {
    ...(f.task ? { task: f.task } : {}),
    ...(f.family ?? f.architecture ? { architectureFamily: f.family ?? f.architecture } : {}),
    ...(f.architecture ? { modelArchitecture: f.architecture } : {}),
    ...(datasetRefs.length ? { datasets: datasetRefs.map((ref) => ({ ref })) } : {}),
    ...(f.inputTypes.length ? { inputs: f.inputTypes.map((format) => ({ format })) } : {}),
    ...(f.outputTypes.length ? { outputs: f.outputTypes.map((format) => ({ format })) } : {}),
  };
  const metrics = (input.evaluation ?? []).map((r) => ({
    type: r.metric,
    value: String(r.value),
    ...(r.dataset || r.task ? { slice: [r.task, r.dataset].filter(Boolean).join(' / ') } : {}),
  }));
  const c = input.modelCard?.considerations ?? {};
  const considerations: Json = {
    ...(c.users?.length ? { users: c.users } : {}),
    ...(c.useCases?.length ? { useCases: c.useCases } : {}),
    ...(c.technicalLimitations?.length ? { technicalLimitations: c.technicalLimitations } : {}),
    ...(c.ethicalConsiderations?.length ? { ethicalConsiderations: c.ethicalConsiderations.map((name) => ({ name })) } : {}),
  };
  return {
    'bom-ref': `model-card:${f.name}`,
    ...(Object.keys(params).length ? { modelParameters: params } : {}),
    ...(metrics.length ? { quantitativeAnalysis: { performanceMetrics: metrics } } : {}),
    ...(Object.keys(considerations).length ? { considerations } : {}),
  };
}

function fileComponent(file: SbomFile): Json {
  const properties = [
    ...(file.mediaType ? [{ name: 'modelpack:layer.mediaType', value: file.mediaType }] : []),
    { name: 'modelpack:file.kind', value: file.kind },
    { name: 'modelpack:file.size', value: String(file.size) },
    // A tar layer's digest covers the archive that holds this path, not the file alone.
    ...(file.archive ? [{ name: 'modelpack:hash.of', value: 'layer-archive' }] : []),
  ];
  return {
    type: 'file',
    'bom-ref': `file:${file.path}`,
    name: file.path,
    hashes: [{ alg: 'SHA-256', content: file.sha256 }],
    properties,
  };
}

function dataComponent(d: DatasetFacts, ref: string): Json {
  const licenses = cyclonedxLicenses(d.licenses);
  return {
    type: 'data',
    'bom-ref': ref,
    name: d.name,
    ...(d.description ? { description: d.description } : {}),
    ...(d.files.length === 1 ? { hashes: [{ alg: 'SHA-256', content: d.files[0]!.sha256 }] } : {}),
    ...(licenses ? { licenses } : {}),
    ...(d.files.length ? { components: d.files.map(fileComponent) } : {}),
    data: [{ type: 'dataset', name: d.name }],
    properties: [{ name: 'modelship:dataset.role', value: d.role }],
  };
}

function libraryComponent(dep: Dependency): Json {
  const scoped = dep.ecosystem === 'npm' && dep.name.startsWith('@');
  // One digest per algorithm names the package; several (one per wheel) would be ambiguous.
  const hashes = (['SHA-256', 'SHA-512'] as const).flatMap((alg) => {
    const of = (dep.hashes ?? []).filter((h) => h.alg === alg);
    return of.length === 1 ? [{ alg, content: of[0]!.hex }] : [];
  });
  return {
    type: 'library',
    'bom-ref': dep.purl,
    ...(scoped ? { group: dep.name.slice(0, dep.name.indexOf('/')), name: dep.name.slice(dep.name.indexOf('/') + 1) } : { name: dep.name }),
    ...(dep.version ? { version: dep.version } : {}),
    scope: dep.scope,
    ...(hashes.length ? { hashes } : {}),
    purl: dep.purl,
    properties: [
      { name: 'modelship:dependency.source', value: dep.source },
      ...(dep.versionRange ? [{ name: 'modelship:dependency.range', value: dep.versionRange }] : []),
    ],
  };
}
