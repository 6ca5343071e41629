/**
 * Finds the weights to serve from what the user named: a .gguf file, a folder holding a model,
 * or a reference to a packed artifact (pulled and unpacked into the store cache by `fetchReference`).
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ModelshipError } from '../errors/index.js';

export type ModelFormat = 'gguf' | 'safetensors';

export interface ModelSource {
  format: ModelFormat;
  /** The folder holding the weights (mounted into containers). */
  dir: string;
  /** The GGUF file to load, or for safetensors the folder itself. */
  file: string;
  /** A name for the served model: the artifact's name, else the file name without extension, or the folder name. */
  name: string;
  /** The artifact reference the model was fetched by, when it was one. */
  reference?: string;
}

export interface ResolveContext {
  cwd: string;
  /** Pull and unpack an artifact reference; returns the folder holding its files. */
  fetchReference?: (reference: string) => Promise<string>;
}

export async function resolveModelSource(input: string, ctx: ResolveContext): Promise<ModelSource> {
  const local = path.resolve(ctx.cwd, input);
  const info = await stat(local).catch(() => undefined);
  if (info?.isFile()) {
    if (!/\.gguf$/i.test(local)) {
      throw new ModelshipError('MODEL_INVALID', `${local} is not a .gguf file; name a GGUF file or a folder that holds the model.`);
    }
    return { format: 'gguf', dir: path.dirname(local), file: local, name: path.basename(local).replace(/\.gguf$/i, '') };
  }
  if (info?.isDirectory()) return findModelIn(local);
  if (!looksLikePath(input) && ctx.fetchReference) return fromReference(input, await ctx.fetchReference(input));
  const hint = !looksLikePath(input)
    ? 'pull and unpack the artifact into a folder first, then serve the folder'
    : 'check the path';
  throw new ModelshipError('MODEL_NOT_FOUND', `no model file or folder at ${local}: ${hint}.`);
}

/** The weights an artifact unpacked: named after the artifact, and a missing model blamed on it, not the cache. */
async function fromReference(reference: string, dir: string): Promise<ModelSource> {
  try {
    return { ...(await findModelIn(dir)), name: artifactName(reference), reference };
  } catch (err) {
    if (err instanceof ModelshipError && err.code === 'MODEL_NOT_FOUND') {
      throw new ModelshipError('MODEL_NOT_FOUND', `${reference} holds no model weights: none of its weight layers is a .gguf file or safetensors weights; pack a folder that holds the model's weights, then serve that artifact.`);
    }
    throw err;
  }
}

/** "team/tiny:1" -> "team/tiny", "reg:5000/team/tiny@sha256:..." -> "reg:5000/team/tiny", "oci:./dir:v1" -> "dir". */
export function artifactName(reference: string): string {
  let name = reference.replace(/@[a-z0-9]+:[0-9a-f]+$/i, '');
  if (name.startsWith('oci:')) {
    const rest = name.slice(4);
    const colon = rest.lastIndexOf(':');
    const dir = colon > rest.lastIndexOf('/') ? rest.slice(0, colon) : rest;
    return path.basename(dir.replace(/\/+$/, '')) || reference;
  }
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) name = name.slice(0, colon);
  return name || reference;
}

/** One GGUF in the folder (the first shard of a split model), or else safetensors weights. */
export async function findModelIn(dir: string): Promise<ModelSource> {
  const files = await listFiles(dir, 3);
  const ggufs = files.filter((f) => /\.gguf$/i.test(f) && !/mmproj/i.test(path.basename(f)));
  const firstShards = ggufs.filter((f) => /-00001-of-\d{5}\.gguf$/i.test(f));
  const whole = ggufs.filter((f) => !/-\d{5}-of-\d{5}\.gguf$/i.test(f));
  const candidates = [...whole, ...firstShards];
  if (candidates.length === 1) {
    const file = candidates[0]!;
    return { format: 'gguf', dir: path.dirname(file), file, name: path.basename(file).replace(/(-00001-of-\d{5})?\.gguf$/i, '') };
  }
  if (candidates.length > 1) {
    const listed = candidates.map((f) => path.relative(dir, f)).join(', ');
    throw new ModelshipError('MODEL_AMBIGUOUS', `${dir} holds several GGUF models (${listed}); name the file to serve.`);
  }
  if (files.some((f) => /\.safetensors$/i.test(f))) {
    return { format: 'safetensors', dir, file: dir, name: path.basename(dir) };
  }
  throw new ModelshipError('MODEL_NOT_FOUND', `${dir} holds no model weights (no .gguf or .safetensors file); pack or unpack a model there first.`);
}

async function listFiles(dir: string, depth: number): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = path.join(dir, e.name);
    if (e.isFile()) out.push(full);
    else if (e.isDirectory() && depth > 1 && !e.name.startsWith('.')) out.push(...(await listFiles(full, depth - 1)));
  }
  return out;
}

/** ./x, /x, ~/x and *.gguf name files; anything else that does not exist may be a reference. */
function looksLikePath(input: string): boolean {
  return /^(\.{1,2}|~)?[\\/]/.test(input) || /\.gguf$/i.test(input);
}
