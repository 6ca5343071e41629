/**
 * A registry repository as a Target (distribution API v2): manifests and blobs routed by media type,
 * tags, referrers, cross-repository mounts and ranged reads. The wire work lives in the files beside.
 */
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { ModelshipError } from '../../errors/index.js';
import type { Reporter } from '../../progress/index.js';
import { readAllVerified } from '../verify.js';
import {
  MAX_MANIFEST_BYTES,
  isManifestMediaType,
  type Content,
  type Deleter,
  type Descriptor,
  type Mounter,
  type RangeFetcher,
  type ReferrerLister,
  type TagLister,
  type Target,
} from '../types.js';
import {
  DEFAULT_CHUNK_SIZE,
  blobExists,
  deleteBlob,
  fetchBlob,
  fetchBlobFrom,
  mountBlob,
  pushBlob,
  type BlobContext,
  type UploadMode,
} from './blobs.js';
import type { RetryOptions } from './client.js';
import { dockerCredentials, type CredentialProvider } from './credentials.js';
import { listReferrers, listTags, DEFAULT_MAX_PAGES } from './listing.js';
import { deleteManifest, fetchManifestByDescriptor, getManifest, manifestExists, putManifest, resolveManifest } from './manifests.js';
import { RegistrySessions } from './session.js';

export interface RemoteOptions {
  /** Speak plain HTTP (never the default). */
  plainHttp?: boolean;
  /** PEM certificates trusted in addition to the system roots. */
  caCertPem?: string;
  /** Where credentials come from; none means anonymous. */
  credentials?: CredentialProvider;
  reporter?: Reporter;
  /** 'auto' (default): chunked for blobs over `chunkSize`, monolithic otherwise and after a registry refuses PATCH. */
  uploadMode?: UploadMode;
  /** Bytes per PATCH (default 256 MiB); in auto mode smaller blobs go up in one PUT. */
  chunkSize?: number;
  retry?: RetryOptions;
  /** Idle time on a socket before an exchange fails (default 120 s). */
  timeoutMs?: number;
  /** `n` for tag listing pages (default: the registry's choice). */
  tagPageSize?: number;
  /** Cap on pages of tags or referrers (default 1000). */
  maxListPages?: number;
  /** Cancels every request of this target. */
  signal?: AbortSignal;
  /** Targets given the same pool share tokens and what was learned about each registry. */
  sessions?: RegistrySessions;
}

/** Options from the environment and the common flags: docker/podman credentials, a CA file, plain HTTP. */
export function remoteOptionsFrom(env: NodeJS.ProcessEnv, flags: { plainHttp?: boolean; caFile?: string }): RemoteOptions {
  const caFile = flags.caFile ?? (env['MODELSHIP_CA_FILE'] || undefined);
  let caCertPem: string | undefined;
  if (caFile) {
    try {
      caCertPem = readFileSync(caFile, 'utf8');
    } catch (err) {
      throw new ModelshipError('INPUT_INVALID', `cannot read the CA file ${caFile} given with --ca-file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        cause: err,
        details: { file: caFile },
      });
    }
    if (!caCertPem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new ModelshipError('INPUT_INVALID', `the CA file ${caFile} holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`, { details: { file: caFile } });
    }
  }
  const plainHttp = flags.plainHttp ?? ['1', 'true', 'yes'].includes((env['MODELSHIP_PLAIN_HTTP'] ?? '').toLowerCase());
  return { plainHttp, ...(caCertPem ? { caCertPem } : {}), credentials: dockerCredentials(env), sessions: new RegistrySessions() };
}

export class RemoteTarget implements Target, Deleter, TagLister, Mounter, ReferrerLister, RangeFetcher {
  readonly location: string;
  /** Whether the last manifest pushed with a `subject` was answered with `OCI-Subject`. */
  lastSubjectAccepted = false;
  private readonly ctx: BlobContext;
  private readonly options: RemoteOptions;

  constructor(
    readonly registry: string,
    readonly repository: string,
    options: RemoteOptions = {},
  ) {
    this.options = options;
    this.location = `${registry}/${repository}`;
    const sessions = options.sessions ?? new RegistrySessions();
    const session = sessions.get(registry, {
      ...(options.plainHttp !== undefined ? { plainHttp: options.plainHttp } : {}),
      ...(options.caCertPem !== undefined ? { caCertPem: options.caCertPem } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.reporter ? { reporter: options.reporter } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    this.ctx = {
      session,
      repository,
      uploadMode: options.uploadMode ?? 'auto',
      chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE,
      attempts: Math.max(1, options.retry?.attempts ?? 5),
    };
  }

  async exists(desc: Descriptor): Promise<boolean> {
    return isManifestMediaType(desc.mediaType) ? manifestExists(this.ctx, desc) : blobExists(this.ctx, desc);
  }

  async fetch(desc: Descriptor): Promise<Readable> {
    if (isManifestMediaType(desc.mediaType)) return Readable.from([Buffer.from(await fetchManifestByDescriptor(this.ctx, desc))], { objectMode: false });
    return fetchBlob(this.ctx, desc);
  }

  async fetchFrom(desc: Descriptor, offset: number): Promise<Readable> {
    return fetchBlobFrom(this.ctx, desc, offset);
  }

  /** Manifests and indexes go to /manifests/<digest>, everything else is a blob upload. */
  async push(desc: Descriptor, content: Content): Promise<void> {
    if (isManifestMediaType(desc.mediaType)) {
      await this.pushManifest(desc, await manifestBytes(desc, content));
      return;
    }
    await pushBlob(this.ctx, desc, content);
  }

  /** Push a manifest by digest; says whether the registry took its `subject` into its referrers index. */
  async pushManifest(desc: Descriptor, bytes: Uint8Array): Promise<{ subjectAccepted: boolean }> {
    const answer = await putManifest(this.ctx, desc, bytes);
    if (hasSubject(bytes)) this.lastSubjectAccepted = answer.subjectAccepted;
    return answer;
  }

  async resolve(reference: string): Promise<Descriptor> {
    return resolveManifest(this.ctx, reference);
  }

  /** Put the manifest `desc` names under `reference` (a tag); its bytes are read back from the repository. */
  async tag(desc: Descriptor, reference: string): Promise<void> {
    const bytes = await fetchManifestByDescriptor(this.ctx, desc);
    await putManifest(this.ctx, desc, bytes, reference);
  }

  /** The manifest for a tag or digest with its bytes, digest-checked. */
  async fetchReference(reference: string): Promise<{ descriptor: Descriptor; bytes: Uint8Array }> {
    return getManifest(this.ctx, reference);
  }

  async delete(desc: Descriptor): Promise<void> {
    if (isManifestMediaType(desc.mediaType)) await deleteManifest(this.ctx, desc);
    else await deleteBlob(this.ctx, desc);
  }

  tags(): AsyncIterable<string> {
    return listTags(this.ctx, this.options.tagPageSize, this.options.maxListPages ?? DEFAULT_MAX_PAGES);
  }

  async mount(desc: Descriptor, fromRepository: string): Promise<boolean> {
    return mountBlob(this.ctx, desc, fromRepository);
  }

  async referrers(subject: Descriptor, artifactType?: string): Promise<Descriptor[] | undefined> {
    return listReferrers(this.ctx, subject, artifactType, this.options.maxListPages ?? DEFAULT_MAX_PAGES);
  }
}

async function manifestBytes(desc: Descriptor, content: Content): Promise<Uint8Array> {
  if (content instanceof Uint8Array) return content;
  const stream = content instanceof Readable ? content : await content.open(0);
  return readAllVerified(stream, desc, MAX_MANIFEST_BYTES, 'the manifest being pushed');
}

function hasSubject(bytes: Uint8Array): boolean {
  try {
    return (JSON.parse(Buffer.from(bytes).toString('utf8')) as { subject?: unknown }).subject !== undefined;
  } catch {
    return false;
  }
}

export { RegistrySessions } from './session.js';
export { RegistryError, isRegistryError, redactUrl } from './errors.js';
export type { SpecError } from './errors.js';
export { dockerCredentials, staticCredentials, saveCredential, removeCredential, authFilesToRead, authFileToWrite, normalizeRegistryKey } from './credentials.js';
export type { Credential, CredentialProvider, StoredCredential } from './credentials.js';
export { parseChallenges } from './auth.js';
export type { Challenge } from './auth.js';
export type { UploadMode } from './blobs.js';
export type { RetryOptions } from './client.js';
export { checkLogin } from './login.js';
