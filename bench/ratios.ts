/** Throughput ratios between this SDK and each reference, computed from the result records. */
import type { Algorithm, BenchResult, ImplementationName, Mode, Operation } from './types.js';

/** Throughput of `numerator` divided by that of `denominator`; above 1 means faster. */
export interface Ratio {
  /** For example `qynpqc / @noble/post-quantum` or `pool 2 workers / in-thread`. */
  comparison: string;
  algorithm: Algorithm;
  operation: Operation;
  ratio: number;
}

interface Selector {
  implementation: ImplementationName;
  mode: Mode;
  workers: number;
}

const OURS_IN_THREAD: Selector = { implementation: 'qynpqc', mode: 'in-thread', workers: 0 };

const PEER_REFERENCES: readonly ImplementationName[] = [
  'qynpqc-baseline',
  '@oqs/liboqs-js',
  '@noble/post-quantum',
  'liboqs-native-portable',
  'liboqs-native-auto',
];

function key(algorithm: Algorithm, operation: Operation, selector: Selector): string {
  return `${selector.implementation}|${selector.mode}|${selector.workers}|${algorithm}|${operation}`;
}

/**
 * Returns, for every algorithm and operation measured on both sides, ours in-thread against the
 * baseline build, each peer and each native build, and the pool with `maxWorkers` workers
 * (single calls and batch calls) against ours in-thread.
 */
export function computeRatios(results: readonly BenchResult[], maxWorkers: number): Ratio[] {
  const byKey = new Map<string, BenchResult>();
  for (const result of results) {
    byKey.set(key(result.algorithm, result.operation, result), result);
  }

  const comparisons: { comparison: string; numerator: Selector; denominator: Selector }[] = [];
  for (const peer of PEER_REFERENCES) {
    const mode: Mode = peer.startsWith('liboqs-native') ? 'native' : 'in-thread';
    comparisons.push({
      comparison: `qynpqc / ${peer}`,
      numerator: OURS_IN_THREAD,
      denominator: { implementation: peer, mode, workers: 0 },
    });
  }
  for (const mode of ['pool', 'pool-batch'] as const) {
    const label = mode === 'pool' ? 'pool' : 'pool batch';
    comparisons.push({
      comparison: `${label} ${maxWorkers} workers / in-thread`,
      numerator: { implementation: 'qynpqc', mode, workers: maxWorkers },
      denominator: OURS_IN_THREAD,
    });
  }

  const ratios: Ratio[] = [];
  for (const { comparison, numerator, denominator } of comparisons) {
    for (const result of results) {
      if (result.implementation !== 'qynpqc' || result.mode !== 'in-thread') {
        continue;
      }

      const top = byKey.get(key(result.algorithm, result.operation, numerator));
      const bottom = byKey.get(key(result.algorithm, result.operation, denominator));
      if (top !== undefined && bottom !== undefined) {
        ratios.push({
          comparison,
          algorithm: result.algorithm,
          operation: result.operation,
          ratio: top.opsPerSecond / bottom.opsPerSecond,
        });
      }
    }
  }
  return ratios;
}
