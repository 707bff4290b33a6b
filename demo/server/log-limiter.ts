/**
 * Rate limit for repeated log lines: at most one line per kind per interval, with a running
 * total and the number of lines left out since the last one. The counts are per process.
 */

/** Minimum milliseconds between two log lines of one kind. */
export const LOG_INTERVAL_MS = 1000;

/** Counts to add to a log line that is written. */
export interface LogCounts {
  /** Events of this kind since the process started, this one included. */
  total: number;
  /** Events of this kind left out of the log since the previous line of that kind. */
  suppressed: number;
}

interface KindState {
  total: number;
  suppressed: number;
  lastLoggedAt: number;
}

/** Decides which events of each kind get a log line. */
export class LogRateLimiter {
  readonly #intervalMs: number;
  readonly #kinds = new Map<string, KindState>();

  constructor(intervalMs = LOG_INTERVAL_MS) {
    this.#intervalMs = intervalMs;
  }

  /**
   * Counts one event of `kind` and returns the counts for its log line, or undefined when a
   * line of that kind was written less than the interval ago.
   */
  record(kind: string, now = Date.now()): LogCounts | undefined {
    let state = this.#kinds.get(kind);
    if (state === undefined) {
      state = { total: 0, suppressed: 0, lastLoggedAt: Number.NEGATIVE_INFINITY };
      this.#kinds.set(kind, state);
    }
    state.total += 1;
    if (now - state.lastLoggedAt < this.#intervalMs) {
      state.suppressed += 1;
      return undefined;
    }
    const counts = { total: state.total, suppressed: state.suppressed };
    state.lastLoggedAt = now;
    state.suppressed = 0;
    return counts;
  }
}
