/**
 * OpenSSF Model Signing (OMS v1.0) statements: an in-toto Statement v1 whose predicate lists the
 * model's files (or shards) and digests. Shapes follow specs/oms/schemas-v1.0 and model_signing 1.x.
 */
import { createHash } from 'node:crypto';
import { ModelshipError } from '../../errors/index.js';

export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const OMS_PREDICATE_TYPE = 'https://model_signing/signature/v1.0';
/** The deprecated v0.2 format: one subject per file, no resources. */
export const OMS_V02_PREDICATE_TYPE = 'https://model_signing/Digests/v0.1';

export type OmsHashType = 'sha256' | 'blake2b' | 'blake3';
export type SerializationMethod = 'files' | 'shards';

export interface OmsResource {
  name: string;
  algorithm: string;
  /** Lowercase hex. */
  digest: string;
}

export interface OmsSerialization {
  method: SerializationMethod;
  hash_type: OmsHashType;
  allow_symlinks: boolean;
  /** Bytes per shard; shards only. */
  shard_size?: number;
  ignore_paths?: string[];
}

export interface OmsStatementInput {
  modelName: string;
  resources: OmsResource[];
  serialization: OmsSerialization;
}

export interface InTotoStatement {
  _type: string;
  subject: { name: string; digest: Record<string, string>; annotations?: Record<string, unknown> }[];
  predicateType: string;
  predicate: Record<string, unknown>;
}

export interface OmsStatement extends InTotoStatement {
  predicate: { serialization: OmsSerialization; resources: OmsResource[] };
}

/** Build the statement with resources in the reference implementation's order. */
export function buildOmsStatement(input: OmsStatementInput): OmsStatement {
  const resources = sortResources(input.resources);
  const { method, hash_type, allow_symlinks, shard_size, ignore_paths } = input.serialization;
  const serialization: OmsSerialization = {
    method,
    hash_type,
    allow_symlinks,
    ...(method === 'shards' ? { shard_size: requireShardSize(shard_size) } : {}),
    ignore_paths: [...(ignore_paths ?? [])],
  };
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: [{ name: input.modelName, digest: { sha256: subjectDigest(resources) } }],
    predicateType: OMS_PREDICATE_TYPE,
    predicate: { serialization, resources },
  };
}

/** SHA-256 over the concatenated raw digest bytes, in the order given. */
export function subjectDigest(resources: readonly Pick<OmsResource, 'digest'>[]): string {
  const hash = createHash('sha256');
  for (const r of resources) hash.update(Buffer.from(r.digest, 'hex'));
  return hash.digest('hex');
}

/** Shard resources are named `<path>:<start>:<end>`; the path itself may contain colons. */
export function parseShardName(name: string): { path: string; start: number; end: number } {
  const last = name.lastIndexOf(':');
  const middle = last > 0 ? name.lastIndexOf(':', last - 1) : -1;
  const start = Number(name.slice(middle + 1, last));
  const end = Number(name.slice(last + 1));
  if (middle < 0 || !Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start > end) {
    throw new ModelshipError('VERIFY_FAILED', `shard resource "${name}" is not <path>:<start>:<end>; the signature is malformed`);
  }
  return { path: name.slice(0, middle), start, end };
}

export function shardName(path: string, start: number, end: number): string {
  return `${path}:${start}:${end}`;
}

/** `sha256`, or `sha256-sharded-<size>` for shards, as model_signing names them. */
export function resourceAlgorithm(hashType: OmsHashType, shardSize?: number): string {
  return shardSize === undefined ? hashType : `${hashType}-sharded-${shardSize}`;
}

/**
 * model_signing sorts pathlib paths, which compare component by component (`a/b` < `a-b`),
 * then shards by start and end offsets.
 */
export function sortResources<T extends Pick<OmsResource, 'name'>>(resources: readonly T[], sharded = isSharded(resources)): T[] {
  const keyed = resources.map((r) => ({ r, key: resourceSortKey(r.name, sharded) }));
  keyed.sort((a, b) => compareKeys(a.key, b.key));
  return keyed.map((k) => k.r);
}

function isSharded(resources: readonly Pick<OmsResource, 'name'>[]): boolean {
  return resources.length > 0 && resources.every((r) => /:\d+:\d+$/.test(r.name));
}

interface SortKey {
  parts: string[];
  start: number;
  end: number;
}

function resourceSortKey(name: string, sharded: boolean): SortKey {
  if (!sharded) return { parts: pathParts(name), start: 0, end: 0 };
  const shard = parseShardName(name);
  return { parts: pathParts(shard.path), start: shard.start, end: shard.end };
}

function pathParts(path: string): string[] {
  return path === '.' ? [] : path.split('/');
}

function compareKeys(a: SortKey, b: SortKey): number {
  const n = Math.min(a.parts.length, b.parts.length);
  for (let i = 0; i < n; i++) {
    const c = compareCodePoints(a.parts[i]!, b.parts[i]!);
    if (c !== 0) return c;
  }
  return a.parts.length - b.parts.length || a.start - b.start || a.end - b.end;
}

/** Python compares strings by code point; JavaScript's `<` compares UTF-16 units. */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return (x.done ? 0 : 1) - (y.done ? 0 : 1);
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

function requireShardSize(size: number | undefined): number {
  if (size === undefined || !Number.isSafeInteger(size) || size <= 0) {
    throw new ModelshipError('INPUT_INVALID', `shard_size must be a positive integer for the "shards" method, got ${String(size)}`);
  }
  return size;
}
