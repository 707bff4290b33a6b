/**
 * Progress output of long CLI runs such as bulk enrollment: a `cli-progress` bar when the
 * stream is a terminal, and otherwise one log line every few seconds, so that logs collected
 * from a pipe or a container stay readable.
 */
import cliProgress from 'cli-progress';
import type { BulkProgress } from '../store/bulk-enroll.js';

/** Default interval between log lines when the stream is not a terminal, in milliseconds. */
export const DEFAULT_PROGRESS_LOG_INTERVAL_MS = 5_000;

/** The part of a pino logger the reporter uses. */
export interface ProgressLogger {
  info(fields: object, message: string): void;
}

/** Options of {@link createProgressReporter}. */
export interface ProgressReporterOptions {
  /** Receives the progress lines when the stream is not a terminal. */
  logger: ProgressLogger;
  /** Stream for the bar, which is drawn only when its `isTTY` is true. Default: process.stderr. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Milliseconds between log lines when the stream is not a terminal. Default 5000. */
  intervalMs?: number;
  /** Text in front of the bar and in the log message. Default `bulk enrollment`. */
  label?: string;
  /** Clock in milliseconds, for the log interval. Default `Date.now`. */
  now?: () => number;
}

/** Shows progress updates; call {@link ProgressReporter.stop} once the run ends. */
export interface ProgressReporter {
  /** Shows `progress`: redraws the bar, or logs when the interval has passed. */
  update(progress: BulkProgress): void;
  /** Removes the bar from the update loop, or logs the last progress if it was not logged. */
  stop(): void;
}

function fields(progress: BulkProgress): Record<string, number> {
  return {
    done: progress.done,
    total: progress.total,
    failed: progress.failed,
    rate: Math.round(progress.rate * 10) / 10,
  };
}

function barReporter(
  stream: NodeJS.WritableStream,
  label: string,
): ProgressReporter {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format:
        `${label} [{bar}] {percentage}% | {value}/{total} users | {rate} users/s | ` +
        '{failed} failed',
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;

  return {
    update(progress) {
      const payload = { rate: progress.rate.toFixed(1), failed: progress.failed };
      if (!started) {
        bar.start(progress.total, progress.done, payload);
        started = true;
        return;
      }
      bar.setTotal(progress.total);
      bar.update(progress.done, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

function logReporter(
  logger: ProgressLogger,
  label: string,
  intervalMs: number,
  now: () => number,
): ProgressReporter {
  let lastLoggedAt: number | undefined;
  let pending: BulkProgress | undefined;

  const log = (progress: BulkProgress): void => {
    logger.info(fields(progress), `${label} progress`);
    lastLoggedAt = now();
    pending = undefined;
  };

  return {
    update(progress) {
      const due = lastLoggedAt === undefined || now() - lastLoggedAt >= intervalMs;
      if (due || progress.done >= progress.total) log(progress);
      else pending = progress;
    },
    stop() {
      if (pending !== undefined) log(pending);
    },
  };
}

/** Returns a reporter that draws a bar on a terminal and logs every `intervalMs` otherwise. */
export function createProgressReporter(options: ProgressReporterOptions): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  const label = options.label ?? 'bulk enrollment';
  if (stream.isTTY === true) return barReporter(stream, label);

  return logReporter(
    options.logger,
    label,
    options.intervalMs ?? DEFAULT_PROGRESS_LOG_INTERVAL_MS,
    options.now ?? Date.now,
  );
}
