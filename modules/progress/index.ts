/**
 * Progress reporting, injected into long-running work so that steps never print.
 * The CLI renders it as bars on a TTY and stays quiet elsewhere.
 */
export interface Reporter {
  /** A unit of work starts, e.g. one blob upload; `total` in bytes when known. */
  start(id: string, label: string, total?: number): void;
  advance(id: string, bytes: number): void;
  /** `status` says how the unit ended: done, skipped (already there), mounted, failed. */
  finish(id: string, status: 'done' | 'skipped' | 'mounted' | 'failed'): void;
  /** A one-line note for the user (never secrets). */
  note(message: string): void;
}

export const silentReporter: Reporter = {
  start() {},
  advance() {},
  finish() {},
  note() {},
};

/** A byte count for people: `512 B`, `1.5 KiB`, `3.2 GiB` (binary units, one decimal). */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}
