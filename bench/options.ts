/** Command-line options of `npm run bench` and the time budget of a full and a quick run. */
import { parseArgs } from 'node:util';
import type { RoundBudget } from './in-thread.js';
import type { NativeBudget } from './native.js';
import type { PoolBudget } from './pool.js';

/** How long each part of the benchmark runs. */
export interface Budget {
  inThread: RoundBudget;
  native: NativeBudget;
  pool: PoolBudget;
  /** Fresh processes spawned per implementation for the cold-start median. */
  coldStartRuns: number;
}

/** Parsed command line. */
export interface BenchOptions {
  quick: boolean;
  native: boolean;
  pool: boolean;
  budget: Budget;
}

/** About three minutes on a 2-core machine, including the native benchmark. */
const FULL_BUDGET: Budget = {
  inThread: { rounds: 4, roundMs: 300, warmupMs: 200, minCallsPerRound: 10 },
  native: { timeMs: 400, warmupMs: 100 },
  pool: { durationMs: 1200, warmupMs: 250, batchSize: 256 },
  coldStartRuns: 7,
};

/** About 30 seconds on 2 busy cores, for CI; the numbers are indicative only. */
const QUICK_BUDGET: Budget = {
  inThread: { rounds: 2, roundMs: 100, warmupMs: 50, minCallsPerRound: 3 },
  native: { timeMs: 100, warmupMs: 20 },
  pool: { durationMs: 300, warmupMs: 80, batchSize: 64 },
  coldStartRuns: 3,
};

/** Help text printed by --help and after an invalid option. */
export const USAGE = `Usage: npm run bench [-- options]

Measures ML-KEM and ML-DSA throughput of this SDK in-thread and in the worker pool, next to
@oqs/liboqs-js, @noble/post-quantum and native liboqs, and writes bench/results/.

Options:
  --quick       short run for CI (about 30 s); uses native binaries only if
                make bench-native has built them; writes bench/results/quick.{json,svg,md}
  --no-native   skip building and running the native liboqs benchmark
  --no-pool     skip the worker-pool measurements
  --help        print this text`;

/** Invalid command line; its message names the option and is followed by the usage text. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses `argv`; throws a UsageError on an unknown or malformed option. */
export function parseOptions(argv: readonly string[]): BenchOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        quick: { type: 'boolean', default: false },
        'no-native': { type: 'boolean', default: false },
        'no-pool': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }

  if (values.help) {
    return 'help';
  }
  return {
    quick: values.quick,
    native: !values['no-native'],
    pool: !values['no-pool'],
    budget: values.quick ? QUICK_BUDGET : FULL_BUDGET,
  };
}
