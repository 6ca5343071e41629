/**
 * Package URLs (github.com/package-url/purl-spec) for the ecosystems an SBOM names.
 */
import { parseReference } from '../oci/index.js';

/** PEP 503: lowercase, runs of `-`, `_` and `.` become one `-`. */
export function normalizePypiName(name: string): string {
  return name.trim().toLowerCase().replace(/[-_.]+/g, '-');
}

// purl percent-encodes everything but unreserved characters in each segment.
function encodeSegment(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

export function pypiPurl(name: string, version?: string): string {
  const base = `pkg:pypi/${encodeSegment(normalizePypiName(name))}`;
  return version ? `${base}@${encodeSegment(version)}` : base;
}

/** `@scope/name` becomes namespace `%40scope` and name `name`. */
export function npmPurl(name: string, version?: string): string {
  const [scope, bare] = name.startsWith('@') ? [name.slice(0, name.indexOf('/')), name.slice(name.indexOf('/') + 1)] : [undefined, name];
  const base = `pkg:npm/${scope ? encodeSegment(scope) + '/' : ''}${encodeSegment(bare)}`;
  return version ? `${base}@${encodeSegment(version)}` : base;
}

/**
 * `pkg:oci/<last path segment>@sha256%3A<hex>?repository_url=<registry>/<repository>&tag=<tag>`
 * as the purl spec's oci type defines it; a layout reference has no repository_url.
 */
export function ociPurl(reference: string, digest: string): string {
  const ref = parseReference(reference);
  const qualifiers: string[] = [];
  let name: string;
  if (ref.kind === 'remote') {
    name = ref.repository.split('/').pop()!.toLowerCase();
    qualifiers.push(`repository_url=${encodeQualifier(`${ref.registry}/${ref.repository}`)}`);
  } else {
    name = ref.path.replace(/\/+$/, '').split('/').pop()!.toLowerCase() || 'model';
  }
  if (ref.tag) qualifiers.push(`tag=${encodeQualifier(ref.tag)}`);
  return `pkg:oci/${encodeSegment(name)}@${encodeSegment(digest)}${qualifiers.length ? '?' + qualifiers.join('&') : ''}`;
}

// Qualifier values keep `/` and `:` readable, as the spec's own oci examples do.
function encodeQualifier(v: string): string {
  return encodeSegment(v).replace(/%2F/g, '/').replace(/%3A/g, ':');
}
