/** What the benchmarks share: random input files kept between runs, and wall-clock timing. */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';

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
