/**
 * Store housekeeping: list what is tagged, untag, and prune blobs no tag or referrer reaches.
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelshipError } from '../errors/index.js';
import { REF_NAME_ANNOTATION } from '../oci/layout.js';
import { isDigestTag } from '../oci/signature-tag.js';
import { oldestLiveLease, sweepIngest } from '../oci/ingest-dir.js';
import { fetchManifestBytes, parseManifestContent, successors } from '../oci/manifest.js';
import { isManifestMediaType, type Descriptor } from '../oci/types.js';
import { readArtifact, type ArtifactFormat } from '../modelpack/read.js';
import { storeReference, type LocalStore } from './store.js';

export interface StoreEntry {
  reference: string;
  digest: string;
  mediaType: string;
  format: ArtifactFormat | 'unreadable';
  /** Bytes of the manifest, its config and layers (each blob once). */
  size: number;
}

async function totalSize(store: LocalStore, root: Descriptor): Promise<number> {
  const seen = new Set<string>();
  let size = 0;
  const walk = async (desc: Descriptor): Promise<void> => {
    if (seen.has(desc.digest)) return;
    seen.add(desc.digest);
    size += desc.size;
    if (!isManifestMediaType(desc.mediaType)) return;
    const bytes = await fetchManifestBytes(store.layout, desc, `${store.root} (${desc.digest})`);
    for (const child of successors(desc, bytes, store.root)) await walk(child);
  };
  await walk(root);
  return size;
}

export async function listStore(store: LocalStore): Promise<StoreEntry[]> {
  await store.layout.init();
  const index = await store.layout.readIndex();
  const entries: StoreEntry[] = [];
  for (const m of index.manifests) {
    const reference = m.annotations?.[REF_NAME_ANNOTATION];
    // Referrers-tag indexes (sha256-…) and cosign signature images (sha256-….sig) are bookkeeping, not models.
    if (!reference || isDigestTag(reference)) continue;
    let format: StoreEntry['format'];
    let size = m.size;
    try {
      format = (await readArtifact(store.layout, m.digest)).format;
      size = await totalSize(store, m);
    } catch {
      format = 'unreadable';
    }
    entries.push({ reference, digest: m.digest, mediaType: m.mediaType, format, size });
  }
  return entries.sort((a, b) => (a.reference < b.reference ? -1 : a.reference > b.reference ? 1 : 0));
}

/** Remove a tag; the blobs stay until `pruneStore`. */
export async function removeReference(store: LocalStore, input: string): Promise<Descriptor> {
  const reference = storeReference(input);
  const desc = await store.layout.resolve(reference).catch(() => {
    throw new ModelshipError('STORE_NOT_FOUND', `${reference} is not in the store ${store.root}; see "modelship list"`, { details: { reference } });
  });
  await store.layout.updateIndex((manifests) => manifests.filter((m) => m.annotations?.[REF_NAME_ANNOTATION] !== reference));
  return desc;
}

export interface PruneResult {
  removedBlobs: string[];
  bytes: number;
  /** Unreferenced blobs kept because a pack or pull that may still tag them was running. */
  keptForWrites: number;
  /** Temp files (and leases) in ingest/ that interrupted runs left, now removed, and their bytes. */
  removedTemp: string[];
  tempBytes: number;
  /** Referrers dropped because what they referred to is gone. */
  removedReferrers: string[];
}

async function manifestOf(store: LocalStore, desc: Descriptor) {
  return parseManifestContent(desc, await fetchManifestBytes(store.layout, desc, store.root), `${store.root} (${desc.digest})`);
}

/** Filesystem timestamps are coarser than the clock a lease starts by. */
const CLOCK_SLACK_MS = 50;

export async function pruneStore(store: LocalStore): Promise<PruneResult> {
  const started = Date.now();
  await store.layout.init();
  const ingest = join(store.root, 'ingest');
  const swept = await sweepIngest(ingest);
  // Leases are read before the index: a write whose lease is gone by now has committed its tag.
  const lease = await oldestLiveLease(ingest);
  // Blobs stored or reused since the oldest running write began (or since this prune began) may be about to be tagged.
  const spareSince = Math.min(started, lease ?? Infinity) - CLOCK_SLACK_MS;
  const index = await store.layout.readIndex();
  const reachable = new Set<string>();
  const walk = async (desc: Descriptor): Promise<void> => {
    if (reachable.has(desc.digest)) return;
    reachable.add(desc.digest);
    if (!isManifestMediaType(desc.mediaType)) return;
    if (!(await store.layout.exists(desc))) return;
    const bytes = await fetchManifestBytes(store.layout, desc, store.root);
    for (const child of successors(desc, bytes, store.root)) await walk(child);
  };
  const untagged: Descriptor[] = [];
  for (const m of index.manifests) {
    if (m.annotations?.[REF_NAME_ANNOTATION] && !/^sha(256|512)-[a-f0-9]+$/.test(m.annotations[REF_NAME_ANNOTATION]!)) await walk(m);
    else untagged.push(m);
  }
  // Referrers live as long as their subject: repeat until no new subject becomes reachable.
  const dropped = new Set<string>();
  let pending = untagged;
  for (let changed = true; changed; ) {
    changed = false;
    const next: Descriptor[] = [];
    for (const m of pending) {
      const manifest = (await store.layout.exists(m)) ? await manifestOf(store, m).catch(() => undefined) : undefined;
      const subject = manifest?.subject?.digest;
      const tagName = m.annotations?.[REF_NAME_ANNOTATION];
      const referrersTagSubject = tagName ? tagName.replace(/^(sha256|sha512)-/, '$1:') : undefined;
      const anchor = subject ?? referrersTagSubject;
      if (!anchor || reachable.has(anchor)) {
        await walk(m);
        changed = true;
      } else next.push(m);
    }
    pending = next;
  }
  for (const m of pending) dropped.add(m.digest);
  if (dropped.size) await store.layout.updateIndex((manifests) => manifests.filter((m) => !dropped.has(m.digest) || reachable.has(m.digest)));
  const removedBlobs: string[] = [];
  let bytes = 0;
  let keptForWrites = 0;
  const blobsDir = join(store.root, 'blobs');
  for (const algorithm of await readdir(blobsDir).catch(() => [] as string[])) {
    for (const hex of await readdir(join(blobsDir, algorithm))) {
      const digest = `${algorithm}:${hex}`;
      if (reachable.has(digest)) continue;
      const path = join(blobsDir, algorithm, hex);
      const info = await stat(path).catch(() => undefined);
      if (!info) continue;
      if (info.ctimeMs >= spareSince) {
        keptForWrites++;
        continue;
      }
      await unlink(path).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      });
      bytes += info.size;
      removedBlobs.push(digest);
    }
  }
  return {
    removedBlobs: removedBlobs.sort(),
    bytes,
    keptForWrites,
    removedTemp: swept.removed,
    tempBytes: swept.bytes,
    removedReferrers: [...dropped].filter((d) => !reachable.has(d)).sort(),
  };
}
