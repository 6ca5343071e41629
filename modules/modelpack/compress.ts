/**
 * Layer compression as streams: gzip through zlib with a fixed header, zstd through the `zstd`
 * binary (Node 20's zlib has none; Debian's `zstd` package is small and deterministic at a fixed level).
 */
import { Duplex, PassThrough, Transform, type TransformCallback } from 'node:stream';
import { loadChildProcess, loadZlib } from '../fs/lazy-packages.js';
import { ModelshipError } from '../errors/index.js';

export type Compression = 'none' | 'gzip' | 'zstd';

/** Gzip header byte 9 is the OS; 255 ("unknown", as Go writes) keeps digests equal across platforms. */
const GZIP_OS_OFFSET = 9;

function fixGzipHeader(): Transform {
  let offset = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      if (offset <= GZIP_OS_OFFSET && offset + chunk.length > GZIP_OS_OFFSET) {
        chunk = Buffer.from(chunk);
        chunk[GZIP_OS_OFFSET - offset] = 0xff;
      }
      offset += chunk.length;
      callback(null, chunk);
    },
  });
}

/** A Duplex over a child process's stdin/stdout whose output ends only after a clean exit. */
export function processFilter(command: string, args: string[], purpose: string): Duplex {
  const child = loadChildProcess().spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough({ highWaterMark: 1024 * 1024 });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  child.stdout.pipe(out, { end: false });
  const duplex = Duplex.from({ writable: child.stdin, readable: out });
  child.once('error', (err: NodeJS.ErrnoException) => {
    const missing = err.code === 'ENOENT';
    duplex.destroy(
      new ModelshipError(
        missing ? 'MODELPACK_TOOL_MISSING' : 'MODELPACK_COMPRESSION_FAILED',
        missing ? `${purpose} needs the "${command}" program: install it (Debian/Ubuntu: apt-get install ${command}) or pick another layer format` : `${command} failed: ${err.message}`,
        { cause: err },
      ),
    );
  });
  child.once('close', (code, signal) => {
    if (code === 0) out.end();
    else if (!duplex.destroyed) {
      duplex.destroy(new ModelshipError('MODELPACK_COMPRESSION_FAILED', `${purpose}: ${command} exited with ${code ?? signal}: ${stderr.trim() || 'no message'}`));
    }
  });
  // A consumer that gives up must not leave the child running.
  duplex.once('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  child.stdin.on('error', () => {});
  return duplex;
}

export function compressor(compression: Compression): Duplex {
  switch (compression) {
    case 'none':
      return new PassThrough({ highWaterMark: 1024 * 1024 });
    case 'gzip': {
      const gzip = loadZlib().createGzip({ level: 6, chunkSize: 256 * 1024 });
      const fix = fixGzipHeader();
      gzip.on('error', (err) => fix.destroy(err));
      return Duplex.from({ writable: gzip, readable: gzip.pipe(fix) });
    }
    case 'zstd':
      // One thread and a fixed level: the same bytes give the same blob on every machine.
      return processFilter('zstd', ['-q', '-c', '-3', '-T1', '--no-progress'], 'tar+zstd compression');
    default: {
      const never: never = compression;
      throw new ModelshipError('USAGE', `unknown compression ${String(never)}`);
    }
  }
}

export function decompressor(compression: Compression): Duplex {
  switch (compression) {
    case 'none':
      return new PassThrough({ highWaterMark: 1024 * 1024 });
    case 'gzip':
      return loadZlib().createGunzip();
    case 'zstd':
      return processFilter('zstd', ['-q', '-d', '-c', '--no-progress'], 'tar+zstd decompression');
    default: {
      const never: never = compression;
      throw new ModelshipError('USAGE', `unknown compression ${String(never)}`);
    }
  }
}

/** The compression a layer format implies. */
export function compressionOf(format: 'raw' | 'tar' | 'tar+gzip' | 'tar+zstd'): Compression {
  return format === 'tar+gzip' ? 'gzip' : format === 'tar+zstd' ? 'zstd' : 'none';
}
