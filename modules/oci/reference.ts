/**
 * References as users type them: `oci:PATH[:TAG|@DIGEST]` for an OCI layout on disk and
 * `HOST[:PORT]/REPO[:TAG][@DIGEST]` for a registry (the distribution reference grammar).
 */
import { ModelshipError } from '../errors/index.js';
import { isDigest } from './digest.js';

export interface LayoutReference {
  kind: 'layout';
  /** The directory as typed (resolve it against the working directory before use). */
  path: string;
  tag?: string;
  digest?: string;
}

export interface RemoteReference {
  kind: 'remote';
  /** host[:port], e.g. `127.0.0.1:5000` or `docker.io` */
  registry: string;
  /** e.g. `library/ubuntu` */
  repository: string;
  tag?: string;
  digest?: string;
}

export type Reference = LayoutReference | RemoteReference;

export const DEFAULT_TAG = 'latest';
export const DOCKER_HUB = 'docker.io';

const TAG = /^[\w][\w.-]{0,127}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const MAX_REPOSITORY_LENGTH = 255;

export const ACCEPTED_FORMS = [
  'oci:PATH[:TAG|@DIGEST]            an OCI image layout directory, e.g. oci:./build/layout:v1',
  'HOST[:PORT]/REPO[:TAG|@DIGEST]    a registry repository, e.g. 127.0.0.1:5000/models/llama:v1 or ghcr.io/org/model@sha256:<64 hex>',
];

function invalid(input: string, why: string): ModelshipError {
  return new ModelshipError(
    'OCI_INVALID_REFERENCE',
    `invalid reference "${input}": ${why}.\nAccepted forms:\n  ${ACCEPTED_FORMS.join('\n  ')}`,
    { details: { reference: input } },
  );
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/** Parse either form; throws OCI_INVALID_REFERENCE quoting the input and the accepted forms. */
export function parseReference(input: string): Reference {
  if (input.startsWith('oci:')) return parseLayoutReference(input);
  return parseRemoteReference(input);
}

export function parseLayoutReference(input: string): LayoutReference {
  let rest = input.slice('oci:'.length);
  let digest: string | undefined;
  let tag: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0 && /^[a-z0-9]+:/.test(rest.slice(at + 1))) {
    digest = rest.slice(at + 1);
    if (!isDigest(digest)) throw invalid(input, `"${digest}" is not a valid digest (sha256:<64 hex> or sha512:<128 hex>)`);
    rest = rest.slice(0, at);
  } else {
    // As skopeo: the last ':' segment is the tag when it matches the tag grammar; otherwise it is part of the path.
    const colon = rest.lastIndexOf(':');
    if (colon >= 0 && isValidTag(rest.slice(colon + 1))) {
      tag = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
  }
  if (rest === '') throw invalid(input, 'the layout path is empty');
  return { kind: 'layout', path: rest, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

export function parseRemoteReference(input: string): RemoteReference {
  let rest = input.startsWith('docker://') ? input.slice('docker://'.length) : input;
  if (rest === '') throw invalid(input, 'it is empty');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(rest)) throw invalid(input, 'a URL scheme is not part of a reference; drop "http://" or "https://" (use --plain-http for HTTP)');
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    if (!isDigest(digest)) throw invalid(input, `"${digest}" is not a valid digest (sha256:<64 hex> or sha512:<128 hex>)`);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    if (!isValidTag(tag)) throw invalid(input, `"${tag}" is not a valid tag (letters, digits, "_", "." and "-", at most 128, not starting with "." or "-")`);
    rest = rest.slice(0, colon);
  }
  let registry: string;
  let repository: string;
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  // As docker: the first component is a registry only if it looks like a host (a dot, a port, or localhost).
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))) {
    registry = first;
    repository = rest.slice(slash + 1);
    if (!DOMAIN.test(registry)) throw invalid(input, `"${registry}" is not a valid registry host[:port]`);
    const port = /\]?:(\d+)$/.exec(registry)?.[1];
    if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535)) throw invalid(input, `port ${port} is outside 1-65535`);
  } else {
    registry = DOCKER_HUB;
    repository = rest;
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (repository === '') throw invalid(input, 'the repository name is empty');
  if (repository.length > MAX_REPOSITORY_LENGTH) throw invalid(input, `the repository name is longer than ${MAX_REPOSITORY_LENGTH} characters`);
  for (const component of repository.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      throw invalid(input, `repository component "${component}" must be lowercase letters and digits, separated by ".", "_", "__" or "-"`);
    }
  }
  return { kind: 'remote', registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The tag or digest a target resolves: the digest wins, then the tag, then `latest`. */
export function referenceSelector(ref: Reference): string {
  return ref.digest ?? ref.tag ?? DEFAULT_TAG;
}

export function formatReference(ref: Reference): string {
  const suffix = `${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
  if (ref.kind === 'layout') return ref.digest ? `oci:${ref.path}@${ref.digest}` : `oci:${ref.path}${suffix}`;
  return `${ref.registry}/${ref.repository}${suffix}`;
}
