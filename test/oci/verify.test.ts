import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { descriptorOf, digestOf, parseDigest, verifyingStream } from '../../modules/oci/index.js';
import { hasCode } from '../../modules/errors/index.js';

async function drain(bytes: Uint8Array[], desc: Parameters<typeof verifyingStream>[0]): Promise<number> {
  let received = 0;
  await pipeline(
    Readable.from(bytes.map((b) => Buffer.from(b))),
    verifyingStream(desc),
    new Writable({
      write(chunk: Buffer, _e, cb) {
        received += chunk.length;
        cb();
      },
    }),
  );
  return received;
}

describe('digests', () => {
  it('matches sha256 of known bytes', () => {
    expect(digestOf(new TextEncoder().encode('{}'))).toBe('sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  });
  it('validates algorithm and length', () => {
    expect(parseDigest(`sha512:${'0'.repeat(128)}`).algorithm).toBe('sha512');
    expect(() => parseDigest(`sha256:${'0'.repeat(63)}`)).toThrow(/needs 64 hex characters/);
    expect(() => parseDigest(`md5:${'0'.repeat(32)}`)).toThrow(/unsupported digest algorithm "md5"/);
    expect(() => parseDigest('sha256:ABC')).toThrow(/invalid digest/);
  });
});

describe('verifyingStream', () => {
  const bytes = new TextEncoder().encode('hello, models');
  const desc = descriptorOf(bytes, 'application/octet-stream');

  it('passes correct content through', async () => {
    expect(await drain([bytes.subarray(0, 5), bytes.subarray(5)], desc)).toBe(bytes.length);
  });

  it('stops as soon as more bytes than the size arrive', async () => {
    const chunks = [bytes, new Uint8Array(1 << 20)];
    const err = await drain(chunks, desc).catch((e: unknown) => e);
    expect(hasCode(err, 'OCI_SIZE_MISMATCH')).toBe(true);
    expect(String(err)).toContain(desc.digest);
    expect(String(err)).toContain(`more than ${bytes.length}`);
  });

  it('fails a short read at the end', async () => {
    const err = await drain([bytes.subarray(0, 4)], desc).catch((e: unknown) => e);
    expect(hasCode(err, 'OCI_SIZE_MISMATCH')).toBe(true);
    expect(String(err)).toContain('has 4 bytes');
  });

  it('fails wrong bytes of the right size with both digests named', async () => {
    const wrong = new Uint8Array(bytes);
    wrong[0] = wrong[0]! ^ 1;
    const err = await drain([wrong], desc).catch((e: unknown) => e);
    expect(hasCode(err, 'OCI_DIGEST_MISMATCH')).toBe(true);
    expect(String(err)).toContain(desc.digest);
    expect(String(err)).toContain(digestOf(wrong));
  });
});
