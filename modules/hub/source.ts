/**
 * `hf://ORG/NAME[@REVISION]`: a Hugging Face model repository and the revision to import, and the
 * names the imported artifact records for it (the hf:// URI, the package URL, the web page).
 */
import { ModelshipError } from '../errors/index.js';

export { huggingfacePurl, parseHubSourceUri } from '../sbom/purl.js';

/** Manifest annotation holding `hf://ORG/NAME@SHA`, the commit the layers were downloaded from. */
export { ANNOTATION_SOURCE as ANNOTATION_HF_SOURCE } from '../sbom/artifact.js';
export const ANNOTATION_OCI_SOURCE = 'org.opencontainers.image.source';
export const ANNOTATION_OCI_REVISION = 'org.opencontainers.image.revision';

export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';

export interface HubSource {
  /** `ORG/NAME` (or a legacy `NAME` without organisation). */
  repo: string;
  /** Branch, tag or commit as given; `main` when none is. */
  revision: string;
}

// The Hub's repository names: letters, digits, `-`, `_`, `.`; at most 96 characters, no `--` or `..`.
const SEGMENT = /^(?!.*(--|\.\.))[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;

export function parseHubSource(input: string): HubSource {
  const bad = (why: string) =>
    new ModelshipError('HF_INVALID_SOURCE', `"${input}" is not a Hugging Face model: ${why}; give hf://ORG/NAME or hf://ORG/NAME@REVISION, e.g. hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF@main`);
  if (!input.startsWith('hf://')) throw bad('it does not start with hf://');
  const rest = input.slice('hf://'.length);
  const at = rest.indexOf('@');
  const repo = (at < 0 ? rest : rest.slice(0, at)).replace(/\/+$/, '');
  const revision = at < 0 ? 'main' : rest.slice(at + 1);
  const segments = repo.split('/');
  if (segments.length > 2 || !segments.every((s) => SEGMENT.test(s))) throw bad('the repository is not ORG/NAME');
  if (revision === '' || /\s|\.\.|^\//.test(revision)) throw bad(`the revision "${revision}" is not a branch, tag or commit`);
  return { repo, revision };
}

export const isCommitSha = (revision: string): boolean => /^[0-9a-f]{40}$/.test(revision);

/** `hf://ORG/NAME@SHA`: what the artifact records as its source. */
export function hubSourceUri(repo: string, sha: string): string {
  return `hf://${repo}@${sha}`;
}


/** The repository's page on the Hub (or the mirror), where gated models show their licence to accept. */
export function hubPage(endpoint: string, repo: string): string {
  return `${endpoint.replace(/\/+$/, '')}/${repo}`;
}
