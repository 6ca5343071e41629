/**
 * Package URLs (github.com/package-url/purl-spec) for the ecosystems an SBOM names.
 */
import { parseReference } from '../oci/index.js';
import type { SbomArtifact } from './input.js';

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
 * as the purl spec's oci type defines it. Only a registry location gives a repository_url: a name
 * in the local store or a layout is not on Docker Hub.
 */
export function ociPurl(artifact: Pick<SbomArtifact, 'reference' | 'registry'>, digest: string): string {
  const qualifiers: string[] = [];
  let name: string;
  let tag: string | undefined;
  if (artifact.registry) {
    name = artifact.registry.repository.split('/').pop()!.toLowerCase();
    qualifiers.push(`repository_url=${encodeQualifier(`${artifact.registry.host}/${artifact.registry.repository}`)}`);
    tag = artifact.registry.tag;
  } else {
    const ref = parseReference(artifact.reference);
    const path = ref.kind === 'remote' ? ref.repository : ref.path;
    name = path.replace(/\/+$/, '').split('/').pop()!.toLowerCase() || 'model';
    tag = ref.tag;
  }
  if (tag) qualifiers.push(`tag=${encodeQualifier(tag)}`);
  return `pkg:oci/${encodeSegment(name)}@${encodeSegment(digest)}${qualifiers.length ? '?' + qualifiers.join('&') : ''}`;
}

/** An absolute URI to pull the artifact by digest (`oci://HOST/REPO@sha256:…`), for a registry location only. */
export function ociDownloadUri(artifact: Pick<SbomArtifact, 'registry' | 'digest'>): string | undefined {
  return artifact.registry ? `oci://${artifact.registry.host}/${artifact.registry.repository}@${artifact.digest}` : undefined;
}

// Qualifier values keep `/` and `:` readable, as the spec's own oci examples do.
function encodeQualifier(v: string): string {
  return encodeSegment(v).replace(/%2F/g, '/').replace(/%3A/g, ':');
}

/** `{repo, sha}` from the `hf://ORG/NAME@SHA` source an import records, or undefined for anything else. */
export function parseHubSourceUri(uri: string | undefined): { repo: string; sha: string } | undefined {
  const m = uri ? /^hf:\/\/([A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)?)@([0-9a-f]{40})$/.exec(uri) : null;
  return m ? { repo: m[1]!, sha: m[2]! } : undefined;
}

/** purl-spec `huggingface` type: namespace = organisation, name = repository, version = the lower-case commit. */
export function huggingfacePurl(repo: string, sha: string): string {
  return `pkg:huggingface/${repo.split('/').map(encodeSegment).join('/')}@${sha.toLowerCase()}`;
}
