/**
 * Cost of the worker pool over the in-thread core, on this machine:
 *
 * - batch throughput: ML-KEM-768 keygenBatch and ML-DSA-65 signBatch through a pool of 2
 *   workers, against the in-thread rate of the same operation (target: at least 1.8 times);
 * - added latency: one pooled call against one in-thread call (target: at most 50 µs at the
 *   median; p99 is reported).
 *
 * Two baselines measured in the same run show what the machine itself allows. The first, taken
 * in every throughput round, is the speedup of two bare worker threads running in-thread
 * keygen loops side by side, the ceiling for any pool of 2. The second is the round trip of a
 * one-byte message to a bare worker thread, the floor of any pooled call. On a shared machine all these numbers move together,
 * so compare each pool number with its baseline. In-thread and pooled samples alternate, so
 * that load changes hit both alike, because tinybench's one-task-after-another runs were too
 * sensitive to them on a shared VM.
 *
 * Run `npm run build` first (the pool starts dist/pool-worker.js and the thread baseline loads
 * dist/index.js), then `npx tsx bench/pool-overhead.ts [--json]`.
 */
import { availableParallelism, cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { loadPqc } from '../src/index.js';
import { createPqcPool } from '../src/pool/index.js';

const WORKERS = 2;
/** Rounds of each throughput comparison; the report gives the median round. */
const ROUNDS = 5;
/** Wall-clock time of each side of one throughput round, in ms. */
const ROUND_MS = 1000;
const KEYGEN_BATCH = 1000;
const SIGN_BATCH = 200;
/** Length of each signed message, in bytes. */
const MESSAGE_LENGTH = 64;
/** Latency samples per operation, after as many warm-up samples. */
const LATENCY_SAMPLES = 4000;
/** Key generations each bare thread runs in the parallel baseline. */
const BASELINE_KEYGENS = 1000;

const DIST_INDEX = new URL('../dist/index.js', import.meta.url).href;

/** Code of a bare worker thread: replies to 'keygen' with its loop time in ms, echoes the rest. */
const BARE_WORKER = `
  const { parentPort } = require('node:worker_threads');
  import(${JSON.stringify(DIST_INDEX)}).then(async ({ loadPqc }) => {
    const kem = (await loadPqc()).kem('ML-KEM-768');
    for (let i = 0; i < 200; i++) kem.keygen();
    parentPort.on('message', (message) => {
      if (message !== 'keygen') return parentPort.postMessage(message);
      const start = performance.now();
      for (let i = 0; i < ${BASELINE_KEYGENS}; i++) kem.keygen();
      parentPort.postMessage(performance.now() - start);
    });
    parentPort.postMessage('ready');
  });
`;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

function request(worker: Worker, message: unknown): Promise<unknown> {
  return new Promise((resolve) => {
    worker.once('message', resolve);
    worker.postMessage(message);
  });
}

async function startBareWorkers(count: number): Promise<Worker[]> {
  const workers = Array.from({ length: count }, () => new Worker(BARE_WORKER, { eval: true }));
  await Promise.all(
    workers.map((worker) => new Promise((resolve) => worker.once('message', resolve))),
  );
  return workers;
}

/** Speedup of two bare threads over one, each running the same keygen loop, measured once. */
async function measureParallelCeiling(workers: readonly Worker[]): Promise<number> {
  const alone = (await request(workers[0]!, 'keygen')) as number;
  const start = performance.now();
  await Promise.all(workers.map((worker) => request(worker, 'keygen')));
  const together = performance.now() - start;
  return (workers.length * alone) / together;
}

/** Round trip of a one-byte message to a bare worker thread, in µs. */
async function measureBareRoundTrip(): Promise<{ p50Us: number; p99Us: number }> {
  const [worker] = await startBareWorkers(1);
  const samples: number[] = [];
  for (let i = 0; i < 2 * LATENCY_SAMPLES; i++) {
    const start = performance.now();
    await request(worker!, 1);
    if (i >= LATENCY_SAMPLES) samples.push((performance.now() - start) * 1000);
  }
  await worker!.terminate();
  return { p50Us: percentile(samples, 0.5), p99Us: percentile(samples, 0.99) };
}

/** Operations per second of `step`, which completes `items` operations, over `durationMs`. */
async function rate(step: () => unknown, items: number, durationMs: number): Promise<number> {
  const start = performance.now();
  let done = 0;
  while (performance.now() - start < durationMs) {
    await step();
    done += items;
  }
  return done / ((performance.now() - start) / 1000);
}

interface RateRow {
  inThreadPerSecond: number;
  poolPerSecond: number;
  /** Median over rounds of the pool's rate over the in-thread rate. */
  speedup: number;
  /** Median over rounds of the bare-thread speedup measured in the same round. */
  ceiling: number;
  /** Median over rounds of speedup / ceiling: the share of the machine's parallelism used. */
  efficiency: number;
}

/**
 * Measures in-thread and pooled rates alternately, with the bare-thread ceiling in each
 * round, and returns the medians over rounds.
 */
async function compareRates(
  inThread: () => unknown,
  pooled: () => Promise<unknown>,
  batch: number,
  bareWorkers: readonly Worker[],
): Promise<RateRow> {
  await pooled();
  const rows: Array<{ single: number; batched: number; ceiling: number }> = [];
  for (let round = 0; round < ROUNDS; round++) {
    const single = await rate(inThread, 1, ROUND_MS);
    const batched = await rate(pooled, batch, ROUND_MS);
    const ceiling = await measureParallelCeiling(bareWorkers);
    rows.push({ single, batched, ceiling });
  }
  return {
    inThreadPerSecond: median(rows.map((row) => row.single)),
    poolPerSecond: median(rows.map((row) => row.batched)),
    speedup: median(rows.map((row) => row.batched / row.single)),
    ceiling: median(rows.map((row) => row.ceiling)),
    efficiency: median(rows.map((row) => row.batched / row.single / row.ceiling)),
  };
}

interface LatencyRow {
  inThreadP50Us: number;
  inThreadP99Us: number;
  poolP50Us: number;
  poolP99Us: number;
  /** Pooled median minus in-thread median. */
  addedP50Us: number;
  /** Pooled p99 minus in-thread p99. */
  addedP99Us: number;
}

/** Latency of one call in-thread and through the pool, sampled alternately. */
async function compareLatency(
  inThread: () => unknown,
  pooled: () => Promise<unknown>,
): Promise<LatencyRow> {
  const single: number[] = [];
  const viaPool: number[] = [];
  for (let i = 0; i < 2 * LATENCY_SAMPLES; i++) {
    let start = performance.now();
    inThread();
    const singleUs = (performance.now() - start) * 1000;
    start = performance.now();
    await pooled();
    const poolUs = (performance.now() - start) * 1000;
    if (i >= LATENCY_SAMPLES) {
      single.push(singleUs);
      viaPool.push(poolUs);
    }
  }
  const row = {
    inThreadP50Us: percentile(single, 0.5),
    inThreadP99Us: percentile(single, 0.99),
    poolP50Us: percentile(viaPool, 0.5),
    poolP99Us: percentile(viaPool, 0.99),
  };
  return {
    ...row,
    addedP50Us: row.poolP50Us - row.inThreadP50Us,
    addedP99Us: row.poolP99Us - row.inThreadP99Us,
  };
}

const pqc = await loadPqc();
const kem = pqc.kem('ML-KEM-768');
const scheme = pqc.signature('ML-DSA-65');
const { secretKey: signingKey } = scheme.keygen();
const { publicKey: encapsulationKey } = kem.keygen();
const messages = Array.from({ length: SIGN_BATCH }, (_, i) =>
  new Uint8Array(MESSAGE_LENGTH).fill(i),
);

const bareRoundTrip = await measureBareRoundTrip();
const bareWorkers = await startBareWorkers(WORKERS);
const pool = await createPqcPool({ size: WORKERS });
const pooledKem = pool.kem('ML-KEM-768');
const pooledScheme = pool.signature('ML-DSA-65');
const throughput = {
  'ML-KEM-768 keygen': await compareRates(
    () => kem.keygen(),
    () => pooledKem.keygenBatch(KEYGEN_BATCH),
    KEYGEN_BATCH,
    bareWorkers,
  ),
  'ML-DSA-65 sign': await compareRates(
    () => scheme.sign(messages[0]!, signingKey),
    () => pooledScheme.signBatch(messages, signingKey),
    SIGN_BATCH,
    bareWorkers,
  ),
};
await Promise.all(bareWorkers.map((worker) => worker.terminate()));
const latency = {
  'ML-KEM-768 encapsulate': await compareLatency(
    () => kem.encapsulate(encapsulationKey),
    () => pooledKem.encapsulate(encapsulationKey),
  ),
  'ML-DSA-65 sign': await compareLatency(
    () => scheme.sign(messages[0]!, signingKey),
    () => pooledScheme.sign(messages[0]!, signingKey),
  ),
};
await pool.close();

const report = {
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    availableParallelism: availableParallelism(),
    node: process.version,
  },
  workers: WORKERS,
  bareRoundTrip,
  throughput,
  latency,
};

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const { machine } = report;
  const us = (value: number): string => `${value.toFixed(1)} µs`;
  console.log(`${machine.cpu}, ${machine.availableParallelism} logical CPUs, Node ${machine.node}`);
  console.log(
    `bare worker round trip: p50 ${us(bareRoundTrip.p50Us)}, p99 ${us(bareRoundTrip.p99Us)}`,
  );
  for (const [name, row] of Object.entries(throughput)) {
    console.log(
      `${name}: in-thread ${row.inThreadPerSecond.toFixed(0)}/s, pool of ${WORKERS} in batches ` +
        `${row.poolPerSecond.toFixed(0)}/s, ${row.speedup.toFixed(2)}x; 2 bare threads ` +
        `${row.ceiling.toFixed(2)}x; pool/bare ${row.efficiency.toFixed(2)}`,
    );
  }
  for (const [name, row] of Object.entries(latency)) {
    console.log(
      `${name}: in-thread p50 ${us(row.inThreadP50Us)} p99 ${us(row.inThreadP99Us)}; pool p50 ` +
        `${us(row.poolP50Us)} p99 ${us(row.poolP99Us)}; ` +
        `added p50 ${us(row.addedP50Us)} p99 ${us(row.addedP99Us)}`,
    );
  }
}
