/** What the benchmarks share: random input files kept between runs, and wall-clock and CPU timing. */
import { execFile, type ExecFileOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { promisify } from 'node:util';

const run = promisify(execFile);

const CHUNK = 1024 * 1024;

/** A file of `bytes` random bytes, written in 1 MiB chunks; kept when it already has that size. */
export async function randomFile(path: string, bytes: number): Promise<void> {
  const existing = await stat(path).catch(() => undefined);
  if (existing?.size === bytes) return;
  const out = createWriteStream(path);
  for (let written = 0; written < bytes; written += CHUNK) {
    if (!out.write(randomBytes(Math.min(CHUNK, bytes - written)))) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end(() => resolve()).once('error', reject));
}

/**
 * A file of `bytes` made of one random 16 MiB block repeated, flushed to disk: as costly to hash and
 * copy as random data but quick to make, and each call draws a new block, so no two files share a digest.
 */
export async function blockRandomFile(path: string, bytes: number): Promise<void> {
  const block = randomBytes(16 * CHUNK);
  const file = await open(path, 'w');
  try {
    for (let written = 0; written < bytes; ) {
      const { bytesWritten } = await file.write(block, 0, Math.min(block.length, bytes - written), written);
      written += bytesWritten;
    }
    // Written back now, so its write-back does not run under the measurements.
    await file.sync();
  } finally {
    await file.close();
  }
}

/** The result of `work` and the seconds it took. */
export async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = process.hrtime.bigint();
  const value = await work();
  return [value, Number(process.hrtime.bigint() - start) / 1e9];
}

/** The middle value (mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The 1-minute load average and the core count, to say how busy the machine was during a run. */
export function machineLoad(): { load1: number; cores: number } {
  return { load1: Number(loadavg()[0]!.toFixed(2)), cores: availableParallelism() };
}

/**
 * CPU seconds used so far by this process (every thread) and by the children it has waited for
 * (cp started by a pack, say), from /proc/self/stat where the machine has it; this process alone elsewhere.
 */
export function processCpuSeconds(): number {
  const self = process.cpuUsage();
  let children = 0;
  try {
    // Fields after the command name, which ends at the last ')': cutime and cstime are the 14th and 15th, in clock ticks of 1/100 s.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    children = (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    // No /proc: this process alone.
  }
  return (self.user + self.system) / 1e6 + children;
}

/** Wall and CPU seconds of a command run to completion (a non-zero exit throws); CPU through /usr/bin/time where the machine has it. */
export async function command(file: string, args: string[], options: ExecFileOptions = {}): Promise<{ wall: number; cpu?: number }> {
  const opts = { maxBuffer: 1 << 20, ...options };
  if (!existsSync('/usr/bin/time')) return { wall: (await timed(() => run(file, args, opts)))[1] };
  const [out, wall] = await timed(() => run('/usr/bin/time', ['-f', 'cpu %U %S', file, ...args], opts));
  const m = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(String(out.stderr));
  return { wall, ...(m ? { cpu: Number(m[1]) + Number(m[2]) } : {}) };
}
