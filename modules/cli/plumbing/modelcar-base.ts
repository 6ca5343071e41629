/**
 * `--modelcar [--modelcar-base REF]`: the base image the ModelCar view is built on, resolved to its
 * digest before any file is hashed, so an unreachable base fails fast and says what to use instead.
 */
import { ModelshipError, UsageError, isModelshipError } from '../../errors/index.js';
import type { ModelCarBase } from '../../modelpack/index.js';
import { openReference } from '../../oci/open.js';
import type { LocalStore } from '../../store/index.js';
import { flagBoolean, flagString, type CommandContext } from '../command.js';
import { openContextOf } from './references.js';

export const DEFAULT_MODELCAR_BASE = 'docker.io/library/busybox:1.37';

export const MODELCAR_OPTIONS = {
  modelcar: { type: 'boolean' },
  'modelcar-base': { type: 'string' },
} as const;

export async function modelCarBase(ctx: CommandContext, store: LocalStore): Promise<ModelCarBase | undefined> {
  if (!flagBoolean(ctx, 'modelcar')) {
    if (flagString(ctx, 'modelcar-base')) throw new UsageError('--modelcar-base needs --modelcar');
    return undefined;
  }
  return resolveModelCarBase(ctx, store, flagString(ctx, 'modelcar-base'));
}

/** The base named (default DEFAULT_MODELCAR_BASE, from Docker Hub), pinned to the digest it resolves to now. */
export async function resolveModelCarBase(ctx: CommandContext, store: LocalStore, given: string | undefined): Promise<ModelCarBase> {
  const input = given ?? DEFAULT_MODELCAR_BASE;
  const opened = await openReference(input, openContextOf(ctx, store));
  const resolved = await opened.target.resolve(opened.selector).catch((err: unknown) => {
    throw baseUnreachable(err, input, given === undefined);
  });
  return { target: opened.target, reference: resolved.digest };
}

function baseUnreachable(err: unknown, input: string, isDefault: boolean): unknown {
  if (!isModelshipError(err)) return err;
  const why = isDefault ? `--modelcar without --modelcar-base uses ${input} from Docker Hub, which could not be read` : `the ModelCar base ${input} could not be read`;
  return new ModelshipError(
    err.code,
    `${why}: ${err.message}\nGive a base you can reach with --modelcar-base: a mirror (--modelcar-base mirror.example.com/library/busybox:1.37), ` +
      `the local store, or an OCI layout (skopeo copy docker://busybox:1.37 oci:./busybox:latest, then --modelcar-base oci:./busybox:latest). See docs/modelcar.md.`,
    { cause: err, details: { ...err.details, base: input } },
  );
}
