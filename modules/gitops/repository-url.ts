/**
 * A GitOps repository URL may carry a secret (`https://x-access-token:TOKEN@github.com/acme/gitops.git`).
 * It is used to fetch and push, and nowhere else: what is written (manifests, .git/config) and what is
 * said (messages) carries the URL without its userinfo.
 */

/** The URL without the secret part of its userinfo: all of it for http(s), the password for others (`ssh://git@` stays). */
export function publicRepositoryUrl(url: string): string {
  const parsed = parseUrl(url);
  if (!parsed || (!parsed.username && !parsed.password)) return url;
  if (parsed.protocol === 'http:' || parsed.protocol === 'https:') parsed.username = '';
  parsed.password = '';
  return parsed.href;
}

export function hasCredentials(url: string): boolean {
  return publicRepositoryUrl(url) !== url;
}

/** `text` with every form of the URL's secret replaced, e.g. in git's own error output. */
export function redactRepositoryUrl(text: string, url: string): string {
  const parsed = parseUrl(url);
  if (!parsed || (!parsed.username && !parsed.password)) return text;
  let out = text.split(url).join(publicRepositoryUrl(url));
  for (const secret of [parsed.password, parsed.protocol.startsWith('http') ? parsed.username : ''].filter((s) => s.length >= 4)) {
    for (const form of new Set([secret, decodeURIComponentSafe(secret)])) out = out.split(form).join('***');
  }
  return out;
}

function parseUrl(url: string): URL | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return undefined;
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
