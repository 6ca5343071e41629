/**
 * What the MOF derivation and the cards know about a project: its files (path, kind, size,
 * licence), its declared licences and descriptor, and an existing README's front matter.
 * Built here from a folder (+ ModelSpec); a packed artifact's manifest gives the same facts.
 */
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { listProjectFiles } from '../../project/detect.js';
import { specEntryMatcher } from '../../project/paths.js';
import type { FileKind, ModelSpec } from '../../project/model-spec.js';
import { frontMatterKeyLine, parseCard } from '../card/front-matter.js';
import { detectLicense, isLicenseFileName } from './license-file.js';

export interface ProjectFile {
  /** Relative to the project root, `/`-separated. */
  path: string;
  size: number;
  /** The spec's (or manifest layer's) kind, when the project says it. */
  kind?: FileKind;
  /** Licence declared for this file (SPDX expression, HF id or LicenseRef-). */
  license?: string;
  /** Where that licence was declared, for messages (e.g. "modelship.yaml files[2].license"). */
  licenseSource?: string;
  /** For LICENSE files: the licence their text declares, when recognised. */
  declares?: string;
}

export interface ProjectFacts {
  name: string;
  version?: string;
  producer?: string;
  description?: string;
  /** Licences of the model as a whole; the first is the distribution licence. */
  licenses: string[];
  /** Where `licenses` came from, for messages. */
  licensesSource?: string;
  files: ProjectFile[];
  /** README.md front matter (Hugging Face card metadata), when the project has one. */
  frontMatter?: Record<string, unknown>;
  architecture?: string;
  format?: string;
  paramSize?: string;
  languages?: string[];
  inputTypes?: string[];
  outputTypes?: string[];
  repository?: string;
  /** Where the packed model came from, as its manifest records it (`hf://ORG/NAME@SHA` for an import). */
  source?: string;
  datasetsURL?: string;
  /** Datasets the spec names (files entries of kind dataset). */
  datasets?: { name: string; path: string; license?: string; description?: string }[];
}

async function readHead(file: string, bytes = 8192): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

const README = /^readme\.md$/i;

/** Facts about the project in `dir`, using `spec` for kinds, licences and descriptor when given. */
export async function scanProject(dir: string, spec?: ModelSpec): Promise<ProjectFacts> {
  const root = path.resolve(dir);
  const listed = await listProjectFiles(root, spec?.ignore ?? []);
  const specName = spec?.source.file ? path.basename(spec.source.file) : 'spec';
  const entryFor = specEntryMatcher(spec?.files ?? []);
  const files: ProjectFile[] = [];
  for (const f of listed) {
    const file: ProjectFile = { path: f.path, size: f.size, ...(f.kind ? { kind: f.kind } : {}) };
    const entry = entryFor(f.path);
    if (entry) {
      file.kind = entry.kind;
      if (entry.license) {
        file.license = entry.license;
        file.licenseSource = `${specName} (license of "${entry.path}")`;
      }
    }
    const base = path.posix.basename(f.path);
    if (isLicenseFileName(base)) {
      const declared = detectLicense(base, await readHead(path.join(root, f.path)));
      if (declared) file.declares = declared;
    }
    files.push(file);
  }
  let frontMatter: Record<string, unknown> | undefined;
  const readme = files.find((f) => README.test(f.path));
  if (readme) {
    const parsed = parseCard(await readFile(path.join(root, readme.path), 'utf8'), path.join(root, readme.path));
    if (parsed.hasFrontMatter) frontMatter = parsed.frontMatter;
  }
  const d = spec?.descriptor ?? {};
  const c = spec?.config ?? {};
  const facts: ProjectFacts = { name: d.name ?? path.basename(root), licenses: [...(d.licenses ?? [])], files };
  if (facts.licenses.length) {
    const at = spec?.originalText?.split('\n').findIndex((l) => /^(\s*)licen[cs]es?\s*:/.test(l));
    facts.licensesSource = at !== undefined && at >= 0 ? `${specName}:${at + 1} license` : `${specName} license`;
  }
  else if (typeof frontMatter?.['license'] === 'string') {
    facts.licenses = [frontMatter['license'] === 'other' && typeof frontMatter['license_name'] === 'string'
      ? `LicenseRef-${frontMatter['license_name']}` : frontMatter['license']];
    const line = frontMatterKeyLine(await readFile(path.join(root, readme!.path), 'utf8'), 'license');
    facts.licensesSource = `${readme!.path}${line ? `:${line}` : ''} front matter "license"`;
  } else {
    const rootLicense = files.find((f) => !f.path.includes('/') && f.declares);
    if (rootLicense?.declares) {
      facts.licenses = [rootLicense.declares];
      facts.licensesSource = rootLicense.path;
    }
  }
  const assign = <K extends keyof ProjectFacts>(key: K, value: ProjectFacts[K] | undefined) => {
    if (value !== undefined && value !== '') facts[key] = value;
  };
  assign('version', d.version);
  assign('producer', d.vendor ?? d.authors?.join(', '));
  assign('description', d.description);
  assign('frontMatter', frontMatter);
  assign('architecture', c.architecture);
  assign('format', c.format);
  assign('paramSize', c.paramSize);
  assign('languages', c.capabilities?.languages);
  assign('inputTypes', c.capabilities?.inputTypes);
  assign('outputTypes', c.capabilities?.outputTypes);
  assign('repository', d.sourceURL);
  const datasets = (spec?.files ?? []).filter((e) => e.kind === 'dataset').map((e) => ({
    name: e.name ?? e.path, path: e.path, ...(e.license ? { license: e.license } : {}), ...(e.description ? { description: e.description } : {}),
  }));
  if (datasets.length) facts.datasets = datasets;
  assign('datasetsURL', d.datasetsURL);
  return facts;
}
