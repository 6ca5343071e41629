/**
 * One place that turns what a user typed into a target: `oci:` layouts and registry references.
 */
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { ModelshipError } from '../errors/index.js';
import type { Reporter } from '../progress/index.js';
import { LayoutTarget } from './layout.js';
import { formatReference, parseReference, referenceSelector, type Reference, type RemoteReference } from './reference.js';
import { RemoteTarget, remoteOptionsFrom, type RemoteOptions } from './remote/index.js';
import type { Target } from './types.js';

export interface OpenContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  plainHttp?: boolean;
  caFile?: string;
  reporter?: Reporter;
  /** Settings for registry targets beyond what env and flags give (upload mode, retries, sessions). */
  remoteOptions?: Partial<RemoteOptions>;
  /**
   * The seam for the local model store: given the raw input, return an opened reference when the
   * input names something in the store, or undefined to fall through to layouts and registries.
   */
  resolveStore?: (input: string, ctx: OpenContext) => Promise<OpenedReference | undefined>;
}

export interface OpenedReference {
  target: Target;
  reference: Reference;
  /** The tag or digest to resolve on `target`. */
  selector: string;
  kind: 'layout' | 'remote' | 'store';
  /** How to show the reference to a person. */
  display: string;
}

export async function openReference(input: string, ctx: OpenContext): Promise<OpenedReference> {
  const fromStore = ctx.resolveStore ? await ctx.resolveStore(input, ctx) : undefined;
  if (fromStore) return fromStore;
  const reference = parseReference(input);
  switch (reference.kind) {
    case 'layout': {
      const path = isAbsolute(reference.path) ? reference.path : resolvePath(ctx.cwd, reference.path);
      const absolute = { ...reference, path };
      return { target: new LayoutTarget(path), reference: absolute, selector: referenceSelector(reference), kind: 'layout', display: formatReference(reference) };
    }
    case 'remote':
      return { target: openRemote(reference, ctx), reference, selector: referenceSelector(reference), kind: 'remote', display: formatReference(reference) };
    default: {
      const never: never = reference;
      throw new ModelshipError('OCI_INVALID_REFERENCE', `unsupported reference ${JSON.stringify(never)}`);
    }
  }
}

function openRemote(reference: RemoteReference, ctx: OpenContext): Target {
  const options = remoteOptionsFrom(ctx.env, { ...(ctx.plainHttp ? { plainHttp: true } : {}), ...(ctx.caFile ? { caFile: ctx.caFile } : {}) });
  return new RemoteTarget(reference.registry, reference.repository, { ...options, ...(ctx.reporter ? { reporter: ctx.reporter } : {}), ...ctx.remoteOptions });
}
