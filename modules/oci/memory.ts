/**
 * An in-memory target with the same semantics as the layout (the test double, as oras-go's memory store).
 */
import { Readable } from 'node:stream';
import { ModelshipError } from '../errors/index.js';
import { isDigest } from './digest.js';
import { parseManifestContent } from './manifest.js';
import { referrerDescriptor } from './referrers.js';
import { readContentVerified, verifyingStream } from './verify.js';
import {
  isManifestMediaType,
  type Content,
  type Deleter,
  type Descriptor,
  type RangeFetcher,
  type ReferrerLister,
  type TagLister,
  type Target,
} from './types.js';

/** Blobs are held whole here by design: this target is for tests and small metadata only. */
const MEMORY_LIMIT = Number.MAX_SAFE_INTEGER;

export class MemoryTarget implements Target, Deleter, TagLister, RangeFetcher, ReferrerLister {
  readonly location: string;
  private readonly blobs = new Map<string, { desc: Descriptor; bytes: Uint8Array }>();
  private readonly tagMap = new Map<string, Descriptor>();
  private readonly referrerMap = new Map<string, Descriptor[]>();

  constructor(name = 'memory') {
    this.location = name;
  }

  private notFound(what: string, details: Record<string, unknown>): ModelshipError {
    return new ModelshipError('OCI_NOT_FOUND', `${what} not found in ${this.location}`, { details: { target: this.location, ...details } });
  }

  async exists(desc: Descriptor): Promise<boolean> {
    return this.blobs.has(desc.digest);
  }

  async fetch(desc: Descriptor): Promise<Readable> {
    const entry = this.blobs.get(desc.digest);
    if (!entry) throw this.notFound(`blob ${desc.digest}`, { digest: desc.digest });
    return Readable.from([Buffer.from(entry.bytes)]).pipe(verifyingStream(desc, this.location));
  }

  async fetchFrom(desc: Descriptor, offset: number): Promise<Readable> {
    const entry = this.blobs.get(desc.digest);
    if (!entry) throw this.notFound(`blob ${desc.digest}`, { digest: desc.digest });
    return Readable.from([Buffer.from(entry.bytes.subarray(offset))]);
  }

  async push(desc: Descriptor, content: Content): Promise<void> {
    const bytes = await readContentVerified(content, desc, MEMORY_LIMIT, this.location);
    if (isManifestMediaType(desc.mediaType)) {
      const manifest = parseManifestContent(desc, bytes, `${this.location} (${desc.digest})`);
      if (manifest.subject && !this.blobs.has(desc.digest)) {
        const list = this.referrerMap.get(manifest.subject.digest) ?? [];
        list.push(referrerDescriptor(desc, manifest));
        this.referrerMap.set(manifest.subject.digest, list);
      }
    }
    this.blobs.set(desc.digest, { desc: { mediaType: desc.mediaType, digest: desc.digest, size: desc.size }, bytes: new Uint8Array(bytes) });
  }

  async resolve(reference: string): Promise<Descriptor> {
    if (isDigest(reference)) {
      const entry = this.blobs.get(reference);
      if (!entry) throw this.notFound(`manifest ${reference}`, { digest: reference });
      return entry.desc;
    }
    const desc = this.tagMap.get(reference);
    if (!desc) throw this.notFound(`tag "${reference}"`, { reference });
    return desc;
  }

  async tag(desc: Descriptor, reference: string): Promise<void> {
    if (!this.blobs.has(desc.digest)) throw this.notFound(`manifest ${desc.digest} to tag as "${reference}"`, { digest: desc.digest, reference });
    if (!isDigest(reference)) this.tagMap.set(reference, desc);
  }

  async *tags(): AsyncIterable<string> {
    yield* [...this.tagMap.keys()].sort();
  }

  async delete(desc: Descriptor): Promise<void> {
    if (!this.blobs.delete(desc.digest)) throw this.notFound(`blob ${desc.digest}`, { digest: desc.digest });
    for (const [tag, d] of this.tagMap) if (d.digest === desc.digest) this.tagMap.delete(tag);
    for (const [subject, list] of this.referrerMap) this.referrerMap.set(subject, list.filter((d) => d.digest !== desc.digest));
  }

  async referrers(subject: Descriptor, artifactType?: string): Promise<Descriptor[]> {
    const list = this.referrerMap.get(subject.digest) ?? [];
    return artifactType ? list.filter((d) => d.artifactType === artifactType) : [...list];
  }
}
