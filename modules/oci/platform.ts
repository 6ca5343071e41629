/**
 * Platforms of an image index: parse `os/arch[/variant]` and pick the entry a container runtime
 * would run, so a runnable image can be taken out of an index that also lists a model.
 */
import { ModelshipError } from '../errors/index.js';
import { fetchManifest } from './manifest.js';
import { isIndexMediaType, type Descriptor, type Platform, type ReadOnlyTarget } from './types.js';

export const DEFAULT_PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** `linux/amd64`, `linux/arm64/v8`; anything else is a usage error naming the flag. */
export function parsePlatform(text: string, flag = '--platform'): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/i.test(p))) {
    throw new ModelshipError('USAGE', `${flag} must be OS/ARCH or OS/ARCH/VARIANT (e.g. linux/amd64), got "${text}"`);
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return { os, architecture, ...(variant ? { variant } : {}) };
}

function matches(have: Platform | undefined, want: Platform): boolean {
  if (!have || have.os !== want.os || have.architecture !== want.architecture) return false;
  return want.variant === undefined || have.variant === want.variant;
}

/** The manifest of `desc` for `platform`: `desc` itself unless it is an index, else its matching entry. */
export async function selectPlatform(target: ReadOnlyTarget, desc: Descriptor, platform: Platform, where: string): Promise<Descriptor> {
  if (!isIndexMediaType(desc.mediaType)) return desc;
  const parsed = await fetchManifest(target, desc, where);
  if (!('manifests' in parsed)) return desc;
  const pick = parsed.manifests.find((m) => matches(m.platform, platform));
  if (pick) return pick;
  const listed = parsed.manifests.filter((m) => m.platform).map((m) => formatPlatform(m.platform!));
  throw new ModelshipError('OCI_NOT_FOUND', `${where} has no ${formatPlatform(platform)} image${listed.length ? ` (it lists ${listed.join(', ')})` : ' (no entry names a platform)'}; choose one of those`, {
    details: { platform: formatPlatform(platform), platforms: listed },
  });
}
