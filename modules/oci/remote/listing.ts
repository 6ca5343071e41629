/**
 * Lists a registry pages through: tags (`/tags/list?n=`) and the referrers API, both following
 * `Link: <…>; rel="next"`, with a page cap against registries that never stop.
 */
import { ModelshipError } from '../../errors/index.js';
import { parseImageIndex } from '../manifest.js';
import { isIndexMediaType, MEDIA_TYPE, type Descriptor } from '../types.js';
import { repositoryScope } from './auth.js';
import type { BlobContext } from './blobs.js';
import { redactUrl } from './errors.js';
import { discard, readText } from './transport.js';

export const DEFAULT_MAX_PAGES = 1000;
const MAX_PAGE_BYTES = 4 * 1024 * 1024;

/** The `rel="next"` target of a Link header, if any. */
export function nextLink(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header.join(', ') : header;
  if (!value) return undefined;
  for (const part of value.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (match && /;\s*rel\s*=\s*"?next"?/i.test(match[2]!)) return match[1];
  }
  return undefined;
}

function pageCapError(what: string, maxPages: number): ModelshipError {
  return new ModelshipError('OCI_REGISTRY', `${what} has more than ${maxPages} pages; the registry keeps answering with a next page`, { details: { maxPages } });
}

export async function* listTags(ctx: BlobContext, pageSize: number | undefined, maxPages: number = DEFAULT_MAX_PAGES): AsyncGenerator<string> {
  const client = ctx.session.client;
  let url: URL | undefined = client.url(`/v2/${ctx.repository}/tags/list${pageSize ? `?n=${pageSize}` : ''}`);
  const what = `tags of ${client.registry}/${ctx.repository}`;
  for (let page = 0; url; page++) {
    if (page >= maxPages) throw pageCapError(what, maxPages);
    const res = await client.send({ method: 'GET', url, scopes: [repositoryScope(ctx.repository, 'pull')], expect: [200], context: `list ${what}` });
    const text = await readText(res.body, MAX_PAGE_BYTES);
    let tags: unknown;
    try {
      tags = (JSON.parse(text) as { tags?: unknown }).tags;
    } catch {
      throw new ModelshipError('OCI_REGISTRY', `${redactUrl(url)} answered a tag list that is not JSON`);
    }
    if (tags !== null && tags !== undefined && !(Array.isArray(tags) && tags.every((t) => typeof t === 'string'))) {
      throw new ModelshipError('OCI_REGISTRY', `${redactUrl(url)} answered a tag list whose "tags" is not an array of strings`);
    }
    for (const tag of (tags as string[] | null | undefined) ?? []) yield tag;
    const next = nextLink(res.headers.link);
    url = next ? new URL(next, url) : undefined;
  }
}

/** Referrers from the API, or undefined when the registry has none (404, or an answer that is not an index). */
export async function listReferrers(ctx: BlobContext, subject: Descriptor, artifactType: string | undefined, maxPages: number = DEFAULT_MAX_PAGES): Promise<Descriptor[] | undefined> {
  const client = ctx.session.client;
  const query = artifactType ? `?${new URLSearchParams({ artifactType })}` : '';
  let url: URL | undefined = client.url(`/v2/${ctx.repository}/referrers/${subject.digest}${query}`);
  const what = `referrers of ${client.registry}/${ctx.repository}@${subject.digest}`;
  const found: Descriptor[] = [];
  for (let page = 0; url; page++) {
    if (page >= maxPages) throw pageCapError(what, maxPages);
    const res = await client.send({
      method: 'GET',
      url,
      headers: { Accept: MEDIA_TYPE.ociIndex },
      scopes: [repositoryScope(ctx.repository, 'pull')],
      expect: [200, 404],
      context: `list ${what}`,
    });
    const type = (res.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (res.status === 404 || !isIndexMediaType(type)) {
      discard(res.body);
      if (page === 0) return undefined;
      break;
    }
    const index = parseImageIndex(new Uint8Array(Buffer.from(await readText(res.body, MAX_PAGE_BYTES))), redactUrl(url));
    found.push(...index.manifests);
    const next = nextLink(res.headers.link);
    url = next ? new URL(next, url) : undefined;
  }
  // A registry may ignore the filter (it says so with OCI-Filters-Applied); filter here either way.
  return artifactType ? found.filter((d) => d.artifactType === artifactType) : found;
}
