/** Summary statistics over latency samples, shared by every measurement mode. */

/** Two-sided 95% critical value of the normal distribution. */
const Z_95 = 1.959964;

/** Two-sided 95% critical values of Student's t for 1 to 30 degrees of freedom. */
const T_95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];

/** Statistics of a set of latency samples, in microseconds. */
export interface LatencySummary {
  samples: number;
  /** Calls per second implied by the mean latency. */
  opsPerSecond: number;
  meanMicros: number;
  p50Micros: number;
  p99Micros: number;
  /** Relative margin of error of the mean at 95% confidence, in percent. */
  rme: number;
}

/** Returns the `fraction` quantile of ascending `sorted`, interpolating between neighbours. */
export function quantile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }

  const position = fraction * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  const weight = position - lower;
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * weight;
}

/** Returns the median of `values`, or NaN when there are none. */
export function median(values: readonly number[]): number {
  return quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

/**
 * Summarises latencies given in milliseconds. Throughput is derived from the mean latency, so it
 * is the rate of back-to-back calls on one thread.
 */
export function summarize(latenciesMs: readonly number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const count = sorted.length;
  if (count === 0) {
    throw new Error('cannot summarize an empty sample set; the measured task never completed');
  }

  const mean = sorted.reduce((sum, value) => sum + value, 0) / count;
  let squares = 0;
  for (const value of sorted) {
    squares += (value - mean) ** 2;
  }

  let rme = 0;
  if (count > 1) {
    const standardError = Math.sqrt(squares / (count - 1)) / Math.sqrt(count);
    const critical = T_95[count - 2] ?? Z_95;
    rme = ((critical * standardError) / mean) * 100;
  }

  return {
    samples: count,
    opsPerSecond: 1000 / mean,
    meanMicros: mean * 1000,
    p50Micros: quantile(sorted, 0.5) * 1000,
    p99Micros: quantile(sorted, 0.99) * 1000,
    rme,
  };
}
