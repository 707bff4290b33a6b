/**
 * Compares the SIMD build of the module with the baseline build and with @oqs/liboqs-js on
 * ML-KEM-768 and ML-DSA-65, in one process on the calling thread. Run it with
 *
 *   npx tsx bench/simd-compare.ts [--rounds N] [--round-ms N]
 *
 * Every round runs each implementation for round-ms milliseconds of CPU time per operation, in
 * an order that rotates from round to round, so that load from other processes hits all of them
 * alike.
 * It prints the median rate of each, the spread of the per-round rates as noise, and the ratios
 * with their geometric means. It exits with status 0 whatever the ratios, because timing is no
 * test.
 */
import { parseArgs } from 'node:util';
import { loadPqc } from '../src/index.js';
import type { PqcInstance } from '../src/index.js';
import { operationsOf } from './algorithms.js';
import type { PreparedAlgorithm, PreparedOperation } from './implementations.js';
import { liboqsJsImplementation, ourImplementation, prepareAlgorithm } from './implementations.js';
import { median } from './stats.js';
import type { Algorithm, Operation } from './types.js';
import { PEER_KEM, PEER_SIGNATURE } from './types.js';

const DEFAULT_ROUNDS = 10;
const DEFAULT_ROUND_MS = 200;
/** Calls made before the first round, so that every tier of the engine has compiled the code. */
const WARMUP_CALLS = 20;

const CONTENDERS = ['simd', 'baseline', 'liboqs-js'] as const;
type Contender = (typeof CONTENDERS)[number];

interface Result {
  algorithm: Algorithm;
  operation: Operation;
  /** Per-round rates in operations per second, by contender. */
  rates: Record<Contender, number[]>;
}

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) {
    return fallback;
  }

  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) {
    throw new Error(`--${name} must be a positive integer, got '${value}'`);
  }
  return parsed;
}

/**
 * Calls `run` for at least `durationMs` of CPU time and returns the rate in operations per CPU
 * second. CPU time, unlike wall-clock time, leaves out the time the thread waits while other
 * processes run, which matters on a shared machine.
 */
function measureRate(run: PreparedOperation, durationMs: number): number {
  const start = process.cpuUsage();
  const durationMicros = durationMs * 1000;
  let calls = 0;
  let elapsedMicros = 0;
  do {
    run();
    calls++;
    const used = process.cpuUsage(start);
    elapsedMicros = used.user + used.system;
  } while (elapsedMicros < durationMicros);
  return (calls * 1e6) / elapsedMicros;
}

/** Runs one operation of every contender in rotating order and collects per-round rates. */
function measureOperation(
  prepared: Record<Contender, PreparedAlgorithm>,
  algorithm: Algorithm,
  operation: Operation,
  rounds: number,
  roundMs: number,
): Result {
  const runs = {} as Record<Contender, PreparedOperation>;
  for (const contender of CONTENDERS) {
    const run = prepared[contender].operations[operation];
    if (run === undefined) {
      throw new Error(`${contender} has no ${operation} for ${algorithm}`);
    }
    runs[contender] = run;
    for (let i = 0; i < WARMUP_CALLS; i++) {
      run();
    }
  }

  const rates = { simd: [], baseline: [], 'liboqs-js': [] } as Record<Contender, number[]>;
  for (let round = 0; round < rounds; round++) {
    for (let turn = 0; turn < CONTENDERS.length; turn++) {
      const contender = CONTENDERS[(round + turn) % CONTENDERS.length]!;
      rates[contender].push(measureRate(runs[contender], roundMs));
    }
  }
  return { algorithm, operation, rates };
}

/** Spread of the per-round rates around their median, as (max - min) / median in percent. */
function spreadPercent(rates: readonly number[]): number {
  return (100 * (Math.max(...rates) - Math.min(...rates))) / median(rates);
}

function geometricMean(values: readonly number[]): number {
  return Math.exp(values.reduce((sum, value) => sum + Math.log(value), 0) / values.length);
}

async function prepareAll(
  simd: PqcInstance,
  baseline: PqcInstance,
  algorithm: Algorithm,
): Promise<Record<Contender, PreparedAlgorithm>> {
  return {
    simd: await prepareAlgorithm(ourImplementation(simd), algorithm),
    baseline: await prepareAlgorithm(ourImplementation(baseline), algorithm),
    'liboqs-js': await prepareAlgorithm(await liboqsJsImplementation(), algorithm),
  };
}

const { values } = parseArgs({
  options: { rounds: { type: 'string' }, 'round-ms': { type: 'string' } },
  strict: true,
});
const rounds = positiveInteger('rounds', values.rounds, DEFAULT_ROUNDS);
const roundMs = positiveInteger('round-ms', values['round-ms'], DEFAULT_ROUND_MS);

const simd = await loadPqc({ simd: true });
const baseline = await loadPqc({ simd: false });
if (simd.moduleVariant !== 'simd' || baseline.moduleVariant !== 'baseline') {
  throw new Error(
    `expected the simd and baseline builds, got ${simd.moduleVariant} and ${baseline.moduleVariant}`,
  );
}

const results: Result[] = [];
for (const algorithm of [PEER_KEM, PEER_SIGNATURE]) {
  const prepared = await prepareAll(simd, baseline, algorithm);
  for (const operation of operationsOf(algorithm)) {
    results.push(measureOperation(prepared, algorithm, operation, rounds, roundMs));
  }
  for (const contender of CONTENDERS) {
    prepared[contender].dispose();
  }
}

const header = [
  'operation',
  'simd op/s',
  'baseline op/s',
  'liboqs-js op/s',
  'noise (simd/base/js)',
  'simd÷liboqs-js',
  'simd÷baseline',
];
const rows: string[][] = [];
const versusPeer: number[] = [];
const versusBaseline: number[] = [];
for (const result of results) {
  const [simdRate, baselineRate, peerRate] = CONTENDERS.map((name) => median(result.rates[name]));
  versusPeer.push(simdRate! / peerRate!);
  versusBaseline.push(simdRate! / baselineRate!);
  rows.push([
    `${result.algorithm} ${result.operation}`,
    simdRate!.toFixed(0),
    baselineRate!.toFixed(0),
    peerRate!.toFixed(0),
    CONTENDERS.map((name) => `${spreadPercent(result.rates[name]).toFixed(0)}%`).join('/'),
    (simdRate! / peerRate!).toFixed(2),
    (simdRate! / baselineRate!).toFixed(2),
  ]);
}
rows.push([
  'geometric mean',
  '',
  '',
  '',
  '',
  geometricMean(versusPeer).toFixed(2),
  geometricMean(versusBaseline).toFixed(2),
]);

const widths = header.map((title, column) =>
  Math.max(title.length, ...rows.map((row) => row[column]!.length)),
);
const format = (row: readonly string[]): string =>
  row.map((cell, column) => cell.padStart(widths[column]!)).join('  ');
console.log(
  `${rounds} rounds of ${roundMs} ms CPU time per contender and operation; ` +
    'rates are per CPU second; noise is (max - min) / median',
);
console.log(format(header));
for (const row of rows) {
  console.log(format(row));
}
