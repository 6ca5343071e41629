/**
 * What every command that takes a reference calls: an `oci:PATH:TAG` layout, a reference the store
 * holds, or a registry reference (pulled into the store first when the caller wants it local).
 */
import { copy, type CopyResult } from '../oci/copy.js';
import { openReference, type OpenContext, type OpenedReference } from '../oci/open.js';
import { parseRemoteReference } from '../oci/reference.js';
import { hasCode } from '../errors/index.js';
import { storeReference, type LocalStore } from './store.js';

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
    try {
      await store.layout.init();
      await store.layout.resolve(reference.includes('@') ? reference.slice(reference.indexOf('@') + 1) : reference);
    } catch (err) {
      if (hasCode(err, 'OCI_NOT_FOUND')) return undefined;
      throw err;
    }
    const selector = reference.includes('@') ? reference.slice(reference.indexOf('@') + 1) : reference;
    return { target: store.layout, reference: parseRemoteReference(input), selector, kind: 'store', display: reference };
  };
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
