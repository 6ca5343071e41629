/**
 * Opening the references users type (store names, oci: layouts, registry references) with the
 * flags and store every command shares, and the help text that explains their forms.
 */
import { UsageError } from '../../errors/index.js';
import { parseRemoteReference } from '../../oci/reference.js';
import { normalizeRegistryKey } from '../../oci/remote/index.js';
import { openStore, storeReference, storeResolver, type CopyChoice, type LocalStore } from '../../store/index.js';
import type { OpenContext } from '../../oci/index.js';
import { flagBoolean, flagString, type CommandContext } from '../command.js';

export const REFERENCE_FORMS_HELP = `References:
  oci:PATH[:TAG|@DIGEST]            an OCI image layout directory (skopeo, umoci and podman read it)
  HOST[:PORT]/REPO[:TAG|@DIGEST]    a registry repository; the tag defaults to "latest"
Registries are reached over HTTPS; --ca-file PEM adds a CA to trust, --plain-http allows HTTP
(for a local registry). Credentials come from "modelship login", docker or podman logins.`;

export function openContextOf(ctx: CommandContext, store: LocalStore = openStore(ctx.env, ctx.cwd), prefer: CopyChoice = 'local-first'): OpenContext {
  // Every reference a user types may name a model in the local store (e.g. after `modelship pack`).
  return { ...destinationContextOf(ctx), resolveStore: storeResolver(store, prefer) };
}

/** Where a copy or push writes: the reference as typed, never a same-named entry in the local store. */
export function destinationContextOf(ctx: CommandContext): OpenContext {
  const caFile = flagString(ctx, 'ca-file');
  return {
    cwd: ctx.cwd,
    env: ctx.env,
    plainHttp: flagBoolean(ctx, 'plain-http'),
    ...(caFile ? { caFile } : {}),
    reporter: ctx.reporter,
  };
}

/** A reference to give a model: a tag, never a digest (a digest is what the content hashes to, not a name to choose). */
export function newTagReference(input: string, what: string): string {
  if (!input.startsWith('oci:') && parseRemoteReference(input).digest) {
    throw new UsageError(`${what} "${input}" names a digest; a digest comes from the content and cannot be assigned: give NAME:TAG (e.g. ${input.replace(/@.*$/, '')})`);
  }
  return storeReference(input);
}

/** `https://host:5000/` or `host:5000` → `host:5000`, refusing anything with a path. */
export function registryArgument(ctx: CommandContext, usage: string): string {
  if (ctx.args.length !== 1) throw new UsageError(`expected one REGISTRY (host[:port]), got ${ctx.args.length} argument(s).\nUsage: modelship ${usage}`);
  const raw = ctx.args[0]!;
  const registry = normalizeRegistryKey(raw);
  if (!/^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9a-fA-F:]+\](:\d+)?$/.test(registry)) {
    throw new UsageError(`"${raw}" is not a registry host; give host[:port], e.g. ghcr.io or 127.0.0.1:5000`);
  }
  return registry;
}
