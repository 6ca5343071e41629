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
