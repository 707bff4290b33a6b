/**
 * Cost of the worker pool over the in-thread core, on this machine:
 *
 * - batch throughput: ML-KEM-768 keygenBatch and ML-DSA-65 signBatch through a pool of 2
 *   workers, against the in-thread rate of the same operation (target: at least 1.8 times);
 * - added latency: one pooled call against one in-thread call, measured with tinybench
 *   (target: at most 50 µs at the median; p99 is reported).
 *
 * Run `npm run build` first (the pool starts dist/pool-worker.js), then
 * `npx tsx bench/pool-overhead.ts [--json]`. Numbers depend on the load of the machine.
 */
import { availableParallelism, cpus } from 'node:os';
import { Bench } from 'tinybench';
import { loadPqc } from '../src/index.js';
import { createPqcPool } from '../src/pool/index.js';

const WORKERS = 2;
/** Wall-clock time each throughput measurement runs for, in ms. */
const THROUGHPUT_DURATION_MS = 3000;
const KEYGEN_BATCH = 1000;
const SIGN_BATCH = 200;
/** Length of each signed message, in bytes. */
const MESSAGE_LENGTH = 64;

/** Runs `step` (which completes `items` operations) repeatedly for `durationMs`; returns operations per second. */
async function rate(step: () => unknown, items: number, durationMs: number): Promise<number> {
  await step();
  const start = performance.now();
  let done = 0;
  while (performance.now() - start < durationMs) {
    await step();
    done += items;
  }
  return done / ((performance.now() - start) / 1000);
}

const pqc = await loadPqc();
const pool = await createPqcPool({ size: WORKERS });
const kem = pqc.kem('ML-KEM-768');
const scheme = pqc.signature('ML-DSA-65');
const pooledKem = pool.kem('ML-KEM-768');
const pooledScheme = pool.signature('ML-DSA-65');
const { secretKey: signingKey } = scheme.keygen();
const { publicKey: encapsulationKey } = kem.keygen();
const messages = Array.from({ length: SIGN_BATCH }, (_, i) =>
  new Uint8Array(MESSAGE_LENGTH).fill(i),
);

const throughput = {
  keygenInThread: await rate(() => kem.keygen(), 1, THROUGHPUT_DURATION_MS),
  keygenPool: await rate(
    () => pooledKem.keygenBatch(KEYGEN_BATCH),
    KEYGEN_BATCH,
    THROUGHPUT_DURATION_MS,
  ),
  signInThread: await rate(() => scheme.sign(messages[0]!, signingKey), 1, THROUGHPUT_DURATION_MS),
  signPool: await rate(
    () => pooledScheme.signBatch(messages, signingKey),
    SIGN_BATCH,
    THROUGHPUT_DURATION_MS,
  ),
};

const bench = new Bench({ time: 2000, warmupTime: 300 });
bench
  .add('in-thread ML-KEM-768 encapsulate', () => {
    kem.encapsulate(encapsulationKey);
  })
  .add('pool ML-KEM-768 encapsulate', async () => {
    await pooledKem.encapsulate(encapsulationKey);
  })
  .add('in-thread ML-DSA-65 sign', () => {
    scheme.sign(messages[0]!, signingKey);
  })
  .add('pool ML-DSA-65 sign', async () => {
    await pooledScheme.sign(messages[0]!, signingKey);
  });
await bench.run();
await pool.close();

const latency = Object.fromEntries(
  bench.tasks.map((task) => {
    const result = task.result as { latency?: { p50: number; p99: number } };
    return [
      task.name,
      { p50Us: (result.latency?.p50 ?? NaN) * 1000, p99Us: (result.latency?.p99 ?? NaN) * 1000 },
    ];
  }),
);
const added = (operation: string): { p50Us: number; p99Us: number } => ({
  p50Us: latency[`pool ${operation}`]!.p50Us - latency[`in-thread ${operation}`]!.p50Us,
  p99Us: latency[`pool ${operation}`]!.p99Us - latency[`in-thread ${operation}`]!.p99Us,
});

const report = {
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    availableParallelism: availableParallelism(),
    node: process.version,
  },
  workers: WORKERS,
  throughput: {
    'ML-KEM-768 keygen': {
      inThreadPerSecond: throughput.keygenInThread,
      poolBatchPerSecond: throughput.keygenPool,
      speedup: throughput.keygenPool / throughput.keygenInThread,
    },
    'ML-DSA-65 sign': {
      inThreadPerSecond: throughput.signInThread,
      poolBatchPerSecond: throughput.signPool,
      speedup: throughput.signPool / throughput.signInThread,
    },
  },
  latency,
  addedLatency: {
    'ML-KEM-768 encapsulate': added('ML-KEM-768 encapsulate'),
    'ML-DSA-65 sign': added('ML-DSA-65 sign'),
  },
};

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(report, null, 2));
} else {
  console.log(
    `${report.machine.cpu}, ${report.machine.availableParallelism} logical CPUs, Node ${report.machine.node}`,
  );
  for (const [name, row] of Object.entries(report.throughput)) {
    console.log(
      `${name}: in-thread ${row.inThreadPerSecond.toFixed(0)}/s, pool of ${WORKERS} (batches) ` +
        `${row.poolBatchPerSecond.toFixed(0)}/s, ${row.speedup.toFixed(2)}x`,
    );
  }
  for (const [name, row] of Object.entries(latency)) {
    console.log(`${name}: p50 ${row.p50Us.toFixed(1)} µs, p99 ${row.p99Us.toFixed(1)} µs`);
  }
  for (const [name, row] of Object.entries(report.addedLatency)) {
    console.log(
      `added by the pool, ${name}: p50 ${row.p50Us.toFixed(1)} µs, p99 ${row.p99Us.toFixed(1)} µs`,
    );
  }
}
