/**
 * Pass-through taps that hash and count what flows by, so one read of a file feeds every digest.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export interface HashTap extends Transform {
  /** `sha256:<hex>`; valid once the stream has ended. */
  digest(): string;
  readonly bytes: number;
}

export function hashTap(onChunk?: (bytes: number) => void): HashTap {
  const hash: Hash = createHash('sha256');
  let bytes = 0;
  let hex: string | undefined;
  const tap = new Transform({
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      hash.update(chunk);
      bytes += chunk.length;
      onChunk?.(chunk.length);
      callback(null, chunk);
    },
  }) as HashTap;
  Object.defineProperty(tap, 'bytes', { get: () => bytes });
  tap.digest = () => {
    hex ??= hash.digest('hex');
    return `sha256:${hex}`;
  };
  return tap;
}
