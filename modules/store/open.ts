/**
 * What every command that takes a reference calls: an `oci:PATH:TAG` layout, a reference the store
 * holds, or a registry reference (pulled into the store first when the caller wants it local).
 */
import { copy, type CopyResult } from '../oci/copy.js';
import { openReference, type OpenContext, type OpenedReference } from '../oci/open.js';
import { parseRemoteReference } from '../oci/reference.js';
import { ModelshipError, hasCode } from '../errors/index.js';
import { remoteOf, storeReference, type LocalStore } from './store.js';
import { pathExists } from '../fs/exists.js';
import { join } from 'node:path';

/** The store seam for `openReference`: answers only for references the store holds. */
export function storeResolver(store: LocalStore): NonNullable<OpenContext['resolveStore']> {
  return async (input) => {
    if (input.startsWith('oci:')) return undefined;
    let reference: string;
    try {
      reference = storeReference(input);
    } catch {
      return undefined;
    }
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

export interface OpenArtifactContext extends OpenContext {
  store: LocalStore;
  /** Copy a registry artifact into the store and answer from there (default true). */
  pull?: boolean;
  /** With `pull`, also bring its referrers (signatures, SBOMs). */
  withReferrers?: boolean;
}

export interface OpenedArtifact extends OpenedReference {
  /** Set when the artifact was pulled into the store for this call. */
  pulled?: CopyResult;
}

export async function openArtifact(input: string, ctx: OpenArtifactContext): Promise<OpenedArtifact> {
  const opened = await openReference(input, { ...ctx, resolveStore: storeResolver(ctx.store) });
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
