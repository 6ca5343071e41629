/**
 * Hash a model folder (or a single file) the way model_signing serializes it: each file streamed
 * once, whole (`files`) or cut into fixed-size shards (`shards`).
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { createHash, getHashes, type Hash } from 'node:crypto';
import { ModelshipError } from '../../errors/index.js';
import type { Reporter } from '../../progress/index.js';
import { resourceAlgorithm, shardName, type OmsHashType, type OmsResource, type OmsStatementInput, type SerializationMethod } from './statement.js';

/** Default signature file name, excluded from the signed set. */
export const DEFAULT_SIGNATURE_FILE = 'model.sig';
/** What model_signing leaves out by default, relative to the model root. */
export const DEFAULT_IGNORE_PATHS = ['.git', '.gitattributes', '.github', '.gitignore'] as const;
/** model_signing's default shard size. */
export const DEFAULT_SHARD_SIZE = 1_000_000_000;

export interface HashFolderOptions {
  method?: SerializationMethod;
  hashType?: OmsHashType;
  allowSymlinks?: boolean;
  shardSize?: number;
  /** Paths relative to the model root (or absolute inside it) left out of the signed set. */
  ignorePaths?: string[];
  /** The signature file written into the folder; excluded. Relative to the model root or absolute. */
  signatureFile?: string;
  /** Leave out the default `.git*` entries too (true unless told). */
  ignoreGitPaths?: boolean;
  reporter?: Reporter;
}

/** Node names BLAKE2b-512 `blake2b512`; model_signing's `blake2b` is hashlib's default, also 64 bytes. */
const NODE_HASH: Record<OmsHashType, string | undefined> = { sha256: 'sha256', blake2b: 'blake2b512', blake3: undefined };

export function createOmsHash(hashType: OmsHashType): Hash {
  const name = NODE_HASH[hashType];
  if (!name || !getHashes().includes(name)) {
    throw new ModelshipError(
      'SIGN_HASH_UNSUPPORTED',
      `hash type "${hashType}" is not available in this Node.js build; use --hash-type sha256${name ? '' : ' or blake2b'}`,
    );
  }
  return createHash(name);
}

export async function hashModelFolder(modelPath: string, opts: HashFolderOptions = {}): Promise<OmsStatementInput> {
  const root = resolve(modelPath);
  const method = opts.method ?? 'files';
  const hashType = opts.hashType ?? 'sha256';
  const allowSymlinks = opts.allowSymlinks ?? false;
  const shardSize = method === 'shards' ? (opts.shardSize ?? DEFAULT_SHARD_SIZE) : undefined;
  createOmsHash(hashType); // fail before any reading when the hash is unavailable
  const rootStat = await statModel(root);
  const ignorePaths = rootStat.isDirectory() ? ignoreList(root, opts) : [];
  const files = rootStat.isDirectory() ? await listFiles(root, ignorePaths, allowSymlinks) : [{ name: '.', path: root }];
  const resources: OmsResource[] = [];
  for (const file of files) {
    resources.push(...(await hashFile(file.path, file.name, hashType, shardSize, opts.reporter)));
  }
  return {
    modelName: basename(root),
    resources,
    serialization: {
      method,
      hash_type: hashType,
      allow_symlinks: allowSymlinks,
      ...(shardSize !== undefined ? { shard_size: shardSize } : {}),
      ignore_paths: ignorePaths,
    },
  };
}

async function statModel(root: string) {
  try {
    return await stat(root);
  } catch (err) {
    throw new ModelshipError('INPUT_INVALID', `model path ${root} cannot be read: ${(err as Error).message}`, { cause: err });
  }
}

function ignoreList(root: string, opts: HashFolderOptions): string[] {
  const out = new Set<string>();
  const add = (p: string) => {
    const rel = relative(root, resolve(root, p));
    // Paths outside the model cannot match anything inside it.
    if (rel && !rel.startsWith('..') && !rel.startsWith(sep)) out.add(rel.split(sep).join('/'));
  };
  for (const p of opts.ignorePaths ?? []) add(p);
  add(opts.signatureFile ?? DEFAULT_SIGNATURE_FILE);
  if (opts.ignoreGitPaths ?? true) for (const p of DEFAULT_IGNORE_PATHS) add(p);
  return [...out];
}

export function isIgnored(relPath: string, ignorePaths: readonly string[]): boolean {
  return ignorePaths.some((p) => relPath === p || relPath.startsWith(p + '/'));
}

interface ModelFile {
  /** Relative POSIX path: the resource name. */
  name: string;
  path: string;
}

async function listFiles(root: string, ignorePaths: string[], allowSymlinks: boolean): Promise<ModelFile[]> {
  const files: ModelFile[] = [];
  const seenDirs = new Set<string>([await realpath(root)]);
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const name = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (isIgnored(name, ignorePaths)) continue;
      const full = join(dir, entry.name);
      let info = await lstat(full);
      if (info.isSymbolicLink()) {
        if (!allowSymlinks) {
          throw new ModelshipError(
            'SIGN_SYMLINK',
            `${full} is a symbolic link; pass --allow-symlinks to follow it, or add "${name}" to the ignored paths`,
          );
        }
        info = await stat(full);
      }
      if (info.isDirectory()) {
        const real = await realpath(full);
        // A link back up the tree would loop forever.
        if (seenDirs.has(real)) throw new ModelshipError('SIGN_SYMLINK', `${full} links to a folder already in the model (a cycle)`);
        seenDirs.add(real);
        await walk(full, name);
      } else if (info.isFile()) {
        files.push({ name, path: full });
      }
    }
  };
  await walk(root, '');
  return files;
}

/** One read of the file feeds one hash per shard (or one for the whole file). */
async function hashFile(path: string, name: string, hashType: OmsHashType, shardSize: number | undefined, reporter?: Reporter): Promise<OmsResource[]> {
  const size = (await stat(path)).size;
  const out: OmsResource[] = [];
  const algorithm = resourceAlgorithm(hashType, shardSize);
  reporter?.start(path, name, size);
  if (shardSize === undefined) {
    const hash = createOmsHash(hashType);
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer);
      reporter?.advance(path, (chunk as Buffer).length);
    }
    out.push({ name, algorithm, digest: hash.digest('hex') });
  } else {
    let start = 0;
    let filled = 0;
    let hash = createOmsHash(hashType);
    for await (const raw of createReadStream(path)) {
      let chunk = raw as Buffer;
      reporter?.advance(path, chunk.length);
      while (chunk.length > 0) {
        const take = Math.min(shardSize - filled, chunk.length);
        hash.update(chunk.subarray(0, take));
        filled += take;
        chunk = chunk.subarray(take);
        if (filled === shardSize) {
          out.push({ name: shardName(name, start, start + filled), algorithm, digest: hash.digest('hex') });
          start += filled;
          filled = 0;
          hash = createOmsHash(hashType);
        }
      }
    }
    // An empty file has no shards, as in model_signing.
    if (filled > 0) out.push({ name: shardName(name, start, start + filled), algorithm, digest: hash.digest('hex') });
  }
  reporter?.finish(path, 'done');
  return out;
}
