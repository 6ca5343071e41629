/**
 * Content checked while it streams (as oras-go's VerifyReader): size first, digest at the end.
 * Nothing is sized from `desc.size`, which is untrusted.
 */
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { ModelshipError } from '../errors/index.js';
import { hasherFor } from './digest.js';
import type { Content, Descriptor } from './types.js';

export function sizeMismatch(desc: Descriptor, got: string, where?: string): ModelshipError {
  const at = where ? ` from ${where}` : '';
  return new ModelshipError(
    'OCI_SIZE_MISMATCH',
    `content ${desc.digest}${at} has ${got} bytes, the descriptor says ${desc.size}; the source is corrupt or changed, fetch it again`,
    { details: { digest: desc.digest, expectedSize: desc.size } },
  );
}

export function digestMismatch(desc: Descriptor, actual: string, where?: string): ModelshipError {
  const at = where ? ` from ${where}` : '';
  return new ModelshipError(
    'OCI_DIGEST_MISMATCH',
    `content${at} does not match its digest: expected ${desc.digest}, got ${actual}; the source is corrupt or was tampered with`,
    { details: { expected: desc.digest, actual } },
  );
}

/** A pass-through that fails as soon as more than `desc.size` bytes arrive, or at the end on a short read or wrong digest. */
export function verifyingStream(desc: Descriptor, where?: string): Transform {
  const hash = hasherFor(desc.digest);
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > desc.size) {
        callback(sizeMismatch(desc, `more than ${desc.size}`, where));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      if (seen !== desc.size) {
        callback(sizeMismatch(desc, String(seen), where));
        return;
      }
      const actual = `${desc.digest.slice(0, desc.digest.indexOf(':'))}:${hash.digest('hex')}`;
      callback(actual === desc.digest ? null : digestMismatch(desc, actual, where));
    },
  });
}

/** Read a small verified stream whole, refusing more than `limit` bytes (manifests, configs). */
export async function readAllVerified(stream: Readable, desc: Descriptor, limit: number, where?: string): Promise<Uint8Array> {
  if (desc.size > limit) {
    stream.destroy();
    throw new ModelshipError(
      'OCI_SIZE_LIMIT',
      `content ${desc.digest}${where ? ` from ${where}` : ''} is ${desc.size} bytes, over the ${limit}-byte limit for metadata`,
      { details: { digest: desc.digest, size: desc.size, limit } },
    );
  }
  const chunks: Buffer[] = [];
  const verifier = verifyingStream(desc, where);
  stream.on('error', (err) => verifier.destroy(err));
  stream.pipe(verifier);
  for await (const chunk of verifier) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

/** Bytes as a verified-on-arrival check (for content handed over in memory). */
export function verifyBytes(desc: Descriptor, bytes: Uint8Array, where?: string): void {
  if (bytes.byteLength !== desc.size) throw sizeMismatch(desc, String(bytes.byteLength), where);
  const actual = `${desc.digest.slice(0, desc.digest.indexOf(':'))}:${hasherFor(desc.digest).update(bytes).digest('hex')}`;
  if (actual !== desc.digest) throw digestMismatch(desc, actual, where);
}

/** Content read whole and verified: bytes in memory checked as they are, anything else read up to `limit`. */
export async function readContentVerified(content: Content, desc: Descriptor, limit: number, where?: string): Promise<Uint8Array> {
  if (content instanceof Uint8Array) {
    verifyBytes(desc, content, where);
    return content;
  }
  return readAllVerified(await contentStream(content), desc, limit, where);
}

/** Any accepted content as a stream from its start (memory, stream, or reopenable source). */
export async function contentStream(content: Content): Promise<Readable> {
  if (content instanceof Uint8Array) return Readable.from([Buffer.from(content.buffer, content.byteOffset, content.byteLength)]);
  if (content instanceof Readable) return content;
  return content.open(0);
}
