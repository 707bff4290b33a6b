/**
 * Single-thread ML-KEM-768 and ML-DSA-65 of this SDK against @oqs/liboqs-js in one process,
 * in alternating rounds, with a verdict per operation. Run it with
 *
 *   npm run build && npx tsx bench/core-vs-liboqs-js.ts [--rounds N] [--round-ms N]
 *
 * It prints the comparison and exits with status 0 whatever the ratios, because timing is no
 * test.
 */
import { parseArgs } from 'node:util';
import { operationsOf } from './algorithms.js';
import { formatMicros, formatRate, formatRatio, renderTable } from './format.js';
import { liboqsJsImplementation, ourImplementation, prepareAlgorithm } from './implementations.js';
import { measureInterleaved } from './in-thread.js';
import { importSdk } from './sdk.js';
import { PEER_KEM, PEER_SIGNATURE } from './types.js';

const DEFAULT_ROUNDS = 8;
const DEFAULT_ROUND_MS = 250;
const WARMUP_MS = 200;
const MIN_CALLS_PER_ROUND = 10;

/** Classifies a throughput ratio, given the two relative margins of error in percent. */
function verdict(ratio: number, ourRme: number, peerRme: number): string {
  const margin = Math.hypot(ourRme, peerRme) / 100;
  if (ratio >= 1) {
    return 'as fast or faster';
  }
  return ratio + margin >= 1 ? 'within the margin of error' : 'slower';
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

const { values } = parseArgs({
  options: { rounds: { type: 'string' }, 'round-ms': { type: 'string' } },
  strict: true,
});
const budget = {
  rounds: positiveInteger('rounds', values.rounds, DEFAULT_ROUNDS),
  roundMs: positiveInteger('round-ms', values['round-ms'], DEFAULT_ROUND_MS),
  warmupMs: WARMUP_MS,
  minCallsPerRound: MIN_CALLS_PER_ROUND,
};

const sdk = await importSdk();
const ours = ourImplementation(await sdk.loadPqc());
const peer = await liboqsJsImplementation();
const rows: string[][] = [];

for (const algorithm of [PEER_KEM, PEER_SIGNATURE]) {
  const oursPrepared = await prepareAlgorithm(ours, algorithm);
  const peerPrepared = await prepareAlgorithm(peer, algorithm);

  for (const operation of operationsOf(algorithm)) {
    const summaries = measureInterleaved(
      [
        { implementation: ours.name, run: oursPrepared.operations[operation]! },
        { implementation: peer.name, run: peerPrepared.operations[operation]! },
      ],
      budget,
    );
    const oursSummary = summaries.get(ours.name)!;
    const peerSummary = summaries.get(peer.name)!;
    const ratio = oursSummary.opsPerSecond / peerSummary.opsPerSecond;

    rows.push([
      algorithm,
      operation,
      formatRate(oursSummary.opsPerSecond),
      formatRate(peerSummary.opsPerSecond),
      formatMicros(oursSummary.p50Micros),
      formatMicros(peerSummary.p50Micros),
      formatRatio(ratio),
      verdict(ratio, oursSummary.rme, peerSummary.rme),
    ]);
  }

  oursPrepared.dispose();
  peerPrepared.dispose();
}

process.stdout.write(
  `qynpqc (${ours.version}) against @oqs/liboqs-js ${peer.version}, Node ${process.version}, ` +
    `${budget.rounds} rounds of ${budget.roundMs} ms each\n`,
);
process.stdout.write(
  `${renderTable(
    [
      { header: 'algorithm' },
      { header: 'operation' },
      { header: 'qynpqc ops/s', align: 'right' },
      { header: 'liboqs-js ops/s', align: 'right' },
      { header: 'qynpqc p50 us', align: 'right' },
      { header: 'liboqs-js p50 us', align: 'right' },
      { header: 'ratio', align: 'right' },
      { header: 'verdict' },
    ],
    rows,
  )}\n`,
);
