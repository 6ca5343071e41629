/**
 * Content digests (`alg:hex`) as the OCI image-spec defines them (descriptor.md "Digests").
 */
import { createHash, type Hash } from 'node:crypto';
import { ModelshipError } from '../errors/index.js';
import type { Descriptor } from './types.js';

export type DigestAlgorithm = 'sha256' | 'sha512';

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

/** Split and validate `sha256:<64 hex>` or `sha512:<128 hex>`; `where` names the source for the message. */
export function parseDigest(digest: string, where?: string): ParsedDigest {
  const at = where ? ` in ${where}` : '';
  const match = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-f0-9]+)$/.exec(digest);
  if (!match) {
    throw new ModelshipError('OCI_INVALID_DIGEST', `invalid digest "${digest}"${at}: expected sha256:<64 lowercase hex> or sha512:<128 lowercase hex>`);
  }
  const algorithm = match[1] as DigestAlgorithm;
  const hex = match[2]!;
  const expected = HEX_LENGTH[algorithm];
  if (expected === undefined) {
    throw new ModelshipError('OCI_INVALID_DIGEST', `unsupported digest algorithm "${match[1]}" in "${digest}"${at}: use sha256 or sha512`);
  }
  if (hex.length !== expected) {
    throw new ModelshipError('OCI_INVALID_DIGEST', `invalid digest "${digest}"${at}: ${algorithm} needs ${expected} hex characters, got ${hex.length}`);
  }
  return { algorithm, hex };
}

export function isDigest(value: string): boolean {
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
}

/** A hasher for the algorithm a digest names. */
export function hasherFor(digest: string): Hash {
  return createHash(parseDigest(digest).algorithm);
}

export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** A descriptor for bytes held in memory (manifests, configs, small files). */
export function descriptorOf(bytes: Uint8Array, mediaType: string, extra: Partial<Omit<Descriptor, 'mediaType' | 'digest' | 'size'>> = {}): Descriptor {
  return { mediaType, digest: digestOf(bytes), size: bytes.byteLength, ...extra };
}

/** JSON bytes and their descriptor, for manifests and configs we build. */
export function jsonContent(value: unknown, mediaType: string): { bytes: Uint8Array; descriptor: Descriptor } {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return { bytes, descriptor: descriptorOf(bytes, mediaType) };
}

/** The referrers tag of the fallback schema: `sha256:abc…` becomes `sha256-abc…` (distribution-spec). */
export function referrersTagOf(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `${algorithm}-${hex}`.slice(0, 128);
}
