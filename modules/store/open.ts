/**
 * What every command that takes a reference calls: an `oci:PATH:TAG` layout, a reference the store
 * holds, or a registry reference (pulled into the store first when the caller wants it local).
 *
 * The one rule for a registry reference the store also holds (HOST/REPO:TAG after pack or pull):
 * checks (`verify`, `inspect`) read what the registry serves, which is what a cluster pulls, unless
 * asked for the local copy; steps that prepare an artifact (`sign`, attaching documents) act on the
 * local copy before it is pushed, as in pack, sign, push.
 */
import { copy, type CopyResult } from '../oci/copy.js';
import { openReference, type OpenContext, type OpenedReference } from '../oci/open.js';
import type { Descriptor } from '../oci/types.js';
import { parseRemoteReference } from '../oci/reference.js';
import { ModelshipError, describeError, hasCode } from '../errors/index.js';
import { remoteOf, storeReference, type LocalStore } from './store.js';
import { pathExists } from '../fs/exists.js';
import { join } from 'node:path';

/**
 * Which copy of a registry reference to open when the store may hold it too:
 * `registry` what the registry serves (checks), `local` the store's copy only (`--local`),
 * `local-first` the store's copy when it has one, else the registry's (preparing steps).
 * A bare name (no registry host) is always the store's.
 */
export type CopyChoice = 'registry' | 'local' | 'local-first';

/** The store seam for `openReference`: answers for references the store holds, as `prefer` says. */
export function storeResolver(store: LocalStore, prefer: CopyChoice = 'local-first'): NonNullable<OpenContext['resolveStore']> {
  return async (input) => {
    if (input.startsWith('oci:')) return undefined;
    let reference: string;
    try {
      reference = storeReference(input);
    } catch {
      return undefined;
    }
    if (prefer === 'registry' && remoteOf(reference)) return undefined;
    // The layout tags by full reference; a digest reference resolves by its digest.
    const selector = reference.includes('@') ? reference.slice(reference.indexOf('@') + 1) : reference;
    try {
      // An empty store holds nothing: answer without creating it (e.g. for `inspect` of a registry reference).
      if (!(await pathExists(join(store.root, 'index.json')))) throw new ModelshipError('OCI_NOT_FOUND', `${store.root} has no index.json`);
      await store.layout.resolve(selector);
    } catch (err) {
      if (!hasCode(err, 'OCI_NOT_FOUND')) throw err;
      // A bare name (no registry host) is local, as in kit and modctl: never guess Docker Hub for it.
      if (!remoteOf(reference)) throw notInStore(input, reference, store);
      if (prefer === 'local') throw notPulled(input, reference, store);
      return undefined;
    }
    return { target: store.layout, reference: parseRemoteReference(input), selector, kind: 'store', display: reference };
  };
}

function notInStore(input: string, reference: string, store: LocalStore): ModelshipError {
  return new ModelshipError('STORE_NOT_FOUND', `${reference} is not in the local store ${store.root}; pack it ("modelship pack -t ${input}"), see "modelship list", or give a registry reference such as docker.io/${input}`, {
    details: { reference: input },
  });
}

function notPulled(input: string, reference: string, store: LocalStore): ModelshipError {
  return new ModelshipError('STORE_NOT_FOUND', `${reference} is not in the local store ${store.root}, so there is no local copy to check; drop --local to check what the registry serves, or "modelship pull ${input}" first`, {
    details: { reference: input },
  });
}

export interface OpenArtifactContext extends OpenContext {
  store: LocalStore;
  /** Copy a registry artifact into the store and answer from there (default true). */
  pull?: boolean;
  /** With `pull`, also bring its referrers (signatures, SBOMs). */
  withReferrers?: boolean;
  /** Which copy of a registry reference the store also holds (default `local-first`). */
  prefer?: CopyChoice;
}

export interface OpenedArtifact extends OpenedReference {
  /** Set when the artifact was pulled into the store for this call. */
  pulled?: CopyResult;
}

export async function openArtifact(input: string, ctx: OpenArtifactContext): Promise<OpenedArtifact> {
  const opened = await openReference(input, { ...ctx, resolveStore: storeResolver(ctx.store, ctx.prefer) });
  if (opened.kind !== 'remote' || ctx.pull === false) return opened;
  return pullIntoStore(opened, input, ctx);
}

export async function pullIntoStore(opened: OpenedReference, input: string, ctx: OpenArtifactContext): Promise<OpenedArtifact> {
  const reference = storeReference(input);
  const selector = reference.includes('@') ? reference.slice(reference.indexOf('@') + 1) : reference;
  const pulled = await copy(opened.target, opened.selector, ctx.store.layout, selector, {
    ...(ctx.reporter ? { reporter: ctx.reporter } : {}),
    referrers: ctx.withReferrers ?? false,
  });
  return { target: ctx.store.layout, reference: opened.reference, selector, kind: 'store', display: reference, pulled };
}

/** Where the copy a command acted on lives, for people and for `--json`. */
export type CopyLocation = 'registry' | 'local' | 'layout';

export function copyLocation(opened: OpenedReference): CopyLocation {
  return opened.kind === 'remote' ? 'registry' : opened.kind === 'store' ? 'local' : 'layout';
}

const COPY_NAMES: Record<CopyLocation, string> = { registry: "the registry's copy", local: "the local store's copy", layout: 'the layout' };

/** "the registry's copy of HOST/REPO:TAG (sha256:...)": which copy and which digest a command acted on. */
export function describeCopy(opened: OpenedReference, digest: string): string {
  return `${COPY_NAMES[copyLocation(opened)]} of ${opened.display} (${digest})`;
}

export interface OtherCopy {
  where: CopyLocation;
  /** Its digest, when it could be resolved. */
  digest?: string;
  /** Why it could not be resolved (e.g. the registry was not reached). */
  problem?: string;
}

/**
 * The same registry reference's other copy: the store's when the registry's was opened, the
 * registry's when the store's was. Undefined for layouts, bare names and copies the store lacks.
 */
export async function otherCopyOf(input: string, opened: OpenedReference, ctx: OpenArtifactContext): Promise<OtherCopy | undefined> {
  if (opened.kind === 'layout' || input.startsWith('oci:')) return undefined;
  let reference: string;
  try {
    reference = storeReference(input);
  } catch {
    return undefined;
  }
  if (!remoteOf(reference)) return undefined;
  try {
    const other = opened.kind === 'remote'
      ? await storeResolver(ctx.store, 'local-first')(input, ctx)
      : await openReference(input, { ...ctx, resolveStore: async () => undefined });
    if (!other) return undefined;
    return { where: copyLocation(other), digest: (await other.target.resolve(other.selector)).digest };
  } catch (err) {
    // The other copy only informs a warning: failing to reach it must not fail the command.
    return { where: opened.kind === 'remote' ? 'local' : 'registry', problem: describeError(err) };
  }
}

/** The warning to print when the local and the registry copies of one reference differ. */
export function copiesDiffer(opened: OpenedReference, digest: string, other: OtherCopy | undefined): string | undefined {
  if (!other?.digest || other.digest === digest) return undefined;
  const here = copyLocation(opened);
  const [local, registry] = here === 'local' ? [digest, other.digest] : [other.digest, digest];
  const next = here === 'local' ? 'drop --local to check what the registry serves' : 'pass --local to check the local copy, or push it to publish it';
  return `the local store's copy of ${opened.display} is ${local} but the registry serves ${registry}: checked ${COPY_NAMES[here]}; ${next}`;
}

export interface OpenedCopy {
  opened: OpenedArtifact;
  /** The manifest resolved once: act on `descriptor.digest` so a tag moving meanwhile cannot mix copies. */
  descriptor: Descriptor;
  where: CopyLocation;
  /** The same reference's other copy (registry references only). */
  other?: OtherCopy;
  /** Set when the local and the registry copies differ. */
  warning?: string;
}

/**
 * Open INPUT as `prefer` says, resolve its manifest, and (for a check) compare with the other copy:
 * what `verify`, `inspect` and `sign` call so they all name the copy and digest they acted on.
 */
export async function openCopy(input: string, ctx: OpenArtifactContext & { prefer: CopyChoice; compare?: boolean }): Promise<OpenedCopy> {
  const opened = await openArtifact(input, { ...ctx, pull: false });
  const descriptor = await opened.target.resolve(opened.selector).catch(async (err: unknown) => {
    throw (await notPublished(err, input, opened, ctx)) ?? err;
  });
  const other = ctx.compare ? await otherCopyOf(input, opened, ctx) : undefined;
  const warning = copiesDiffer(opened, descriptor.digest, other);
  return { opened, descriptor, where: copyLocation(opened), ...(other ? { other } : {}), ...(warning ? { warning } : {}) };
}

/** A registry that lacks what the store holds under the same name: say so, and how to go on. */
async function notPublished(err: unknown, input: string, opened: OpenedReference, ctx: OpenArtifactContext): Promise<ModelshipError | undefined> {
  if (opened.kind !== 'remote' || !hasCode(err, 'OCI_NOT_FOUND')) return undefined;
  const local = await storeResolver(ctx.store, 'local-first')(input, ctx).catch(() => undefined);
  if (!local) return undefined;
  return new ModelshipError('OCI_NOT_FOUND', `${(err as Error).message}; the local store holds ${local.display}, which is not published: push it ("modelship push ${input}"), or pass --local to use the local copy`, {
    cause: err,
    details: { reference: input },
  });
}
