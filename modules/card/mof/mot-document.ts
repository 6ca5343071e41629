/**
 * Model Openness Tool YAML files (the shape of the MOT's models/*.yml and its test data): read
 * with line numbers so a wrong component name points at its line, and written for import.
 */
import { LineCounter, isMap, isSeq, parseDocument, stringify, type Node } from 'yaml';
import { ModelshipError } from '../../errors/index.js';
import { MOF_COMPONENTS, componentByName } from './components.js';
import type { ContentType } from './license-data.js';

export interface MotLicenseRef {
  name?: string | null;
  path?: string | null;
}

export interface MotComponent {
  id: number;
  name: string;
  description?: string;
  /** Absent: falls back to the release licences. "unlicensed": present without a licence. */
  license?: string;
  license_path?: string;
  component_path?: string;
}

export interface MotRelease {
  name: string;
  version?: string;
  date?: string;
  type?: string;
  architecture?: string;
  origin?: string;
  producer?: string;
  contact?: string;
  repository?: string;
  huggingface?: string;
  license: Partial<Record<'distribution' | ContentType, MotLicenseRef>>;
  components: MotComponent[];
}

export interface MotDocument {
  framework: { name: string; version: string; date?: string };
  release: MotRelease;
}

function mofError(file: string, line: number | undefined, message: string): ModelshipError {
  const at = line === undefined ? file : `${file}:${line}`;
  return new ModelshipError('MOF_INVALID', `${at}: ${message}`, { details: { file, ...(line === undefined ? {} : { line }) } });
}

function asText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : String(value);
}

/** Parse and check a MOT YAML file; `file` names it in errors. */
export function parseMotYaml(text: string, file = 'MOT file'): MotDocument {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax) throw mofError(file, lines.linePos(syntax.pos[0]).line, `not valid YAML: ${syntax.message.split('\n')[0]}`);
  const lineAt = (path: (string | number)[]): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as Node | undefined;
      if (node && typeof node === 'object' && node.range) return lines.linePos(node.range[0]).line;
    }
    return undefined;
  };
  if (!isMap(doc.contents)) throw mofError(file, 1, 'expected a mapping with "framework" and "release" (a Model Openness Tool model file)');
  const data = doc.toJS() as Record<string, unknown>;
  const release = data['release'];
  if (!release || typeof release !== 'object') throw mofError(file, lineAt(['release']), 'missing "release": a MOT file has framework: and release: {name, license, producer, components}');
  const rel = release as Record<string, unknown>;
  const name = asText(rel['name']);
  if (!name) throw mofError(file, lineAt(['release', 'name']), 'release.name is missing or empty');
  const componentsNode = doc.getIn(['release', 'components'], true);
  if (componentsNode !== undefined && componentsNode !== null && !isSeq(componentsNode)) {
    throw mofError(file, lineAt(['release', 'components']), 'release.components must be a list of {name, license}');
  }
  const rawComponents = Array.isArray(rel['components']) ? (rel['components'] as unknown[]) : [];
  const components: MotComponent[] = rawComponents.map((raw, i) => {
    const entry = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
    const cname = asText(entry['name']);
    const known = cname === undefined ? undefined : componentByName(cname);
    if (!known) {
      throw mofError(file, lineAt(['release', 'components', i, 'name']),
        `unknown MOF component ${cname === undefined ? '(no name)' : `"${cname}"`} at release.components[${i}]; names are matched exactly, valid names: ${MOF_COMPONENTS.map((c) => c.name).join(', ')}`);
    }
    const out: MotComponent = { id: known.id, name: known.name };
    for (const key of ['description', 'license', 'license_path', 'component_path'] as const) {
      const v = asText(entry[key]);
      if (v !== undefined) out[key] = v;
    }
    return out;
  });
  const licenseRaw = (rel['license'] && typeof rel['license'] === 'object' ? rel['license'] : {}) as Record<string, unknown>;
  const license: MotRelease['license'] = {};
  for (const key of ['distribution', 'code', 'data', 'document'] as const) {
    const ref = licenseRaw[key];
    if (ref && typeof ref === 'object') {
      const r = ref as Record<string, unknown>;
      license[key] = { name: asText(r['name']) ?? null, path: asText(r['path']) ?? null };
    }
  }
  const fw = (data['framework'] && typeof data['framework'] === 'object' ? data['framework'] : {}) as Record<string, unknown>;
  const out: MotDocument = {
    framework: { name: asText(fw['name']) ?? 'Model Openness Framework', version: asText(fw['version']) ?? '1.0' },
    release: { name, license, components },
  };
  const fwDate = asText(fw['date']);
  if (fwDate) out.framework.date = fwDate;
  for (const key of ['version', 'date', 'type', 'architecture', 'origin', 'producer', 'contact', 'repository', 'huggingface'] as const) {
    const v = asText(rel[key]);
    if (v !== undefined) out.release[key] = v;
  }
  return out;
}

/** The YAML text the MOT imports (same layout as its models/*.yml). */
export function motYamlText(doc: MotDocument): string {
  const components = doc.release.components.map(({ id: _id, ...rest }) => rest);
  const body = { framework: doc.framework, release: { ...doc.release, components } };
  // Quoted like the MOT's own files, so dates and versions stay strings to its PHP YAML parser.
  return stringify(body, { lineWidth: 0, defaultStringType: 'QUOTE_SINGLE', defaultKeyType: 'PLAIN' });
}
