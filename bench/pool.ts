/**
 * Throughput of the worker pool: single calls kept in flight on every worker, and batch calls.
 * Pool throughput is wall-clock work done per second, unlike the in-thread rate, which is
 * derived from the latency of back-to-back calls.
 */
import type { KemAlgorithm, SignatureAlgorithm } from '../src/index.js';
import type { createPqcPool, PqcPool } from '../src/pool/index.js';
import type { LatencySummary } from './stats.js';
import { summarize } from './stats.js';
import type { BenchResult, Operation } from './types.js';
import { MESSAGE_LENGTH } from './types.js';

/**
 * Batch calls kept in flight in the batch measurements, so that a worker finishing its part of
 * one finds the next one queued instead of idling for a round trip.
 */
const BATCHES_IN_FLIGHT = 2;

/** The pool factory, as exported by the package. */
export type CreatePool = typeof createPqcPool;

/** Time and batch size of each pool measurement. */
export interface PoolBudget {
  durationMs: number;
  warmupMs: number;
  batchSize: number;
}

/** Returns 1, 2, 4, ... up to `max`, always ending with `max` itself. */
export function workerCounts(max: number): number[] {
  const counts: number[] = [];
  for (let count = 1; count < max; count *= 2) {
    counts.push(count);
  }
  counts.push(max);
  return counts;
}

/**
 * Keeps `concurrency` calls in flight for `durationMs` and returns the latency of each call
 * divided by `itemsPerCall`, together with completed items per wall-clock second.
 */
async function closedLoop(
  call: () => Promise<unknown>,
  concurrency: number,
  durationMs: number,
  itemsPerCall: number,
): Promise<{ summary: LatencySummary; itemsPerSecond: number }> {
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + durationMs;

  const lane = async (): Promise<void> => {
    while (performance.now() < end) {
      const callStart = performance.now();
      await call();
      latencies.push((performance.now() - callStart) / itemsPerCall);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));

  const elapsedSeconds = (performance.now() - start) / 1000;
  return {
    summary: summarize(latencies),
    itemsPerSecond: (latencies.length * itemsPerCall) / elapsedSeconds,
  };
}

interface PoolTask {
  operation: Operation;
  batch: boolean;
  call: () => Promise<unknown>;
}

async function poolTasks(
  pool: PqcPool,
  kemName: KemAlgorithm,
  signatureName: SignatureAlgorithm,
  batchSize: number,
): Promise<{ algorithm: KemAlgorithm | SignatureAlgorithm; tasks: PoolTask[] }[]> {
  const kem = pool.kem(kemName);
  const kemKeys = await kem.keygen();
  const { ciphertext } = await kem.encapsulate(kemKeys.publicKey);

  const scheme = pool.signature(signatureName);
  const signatureKeys = await scheme.keygen();
  const message = globalThis.crypto.getRandomValues(new Uint8Array(MESSAGE_LENGTH));
  const signature = await scheme.sign(message, signatureKeys.secretKey);
  const publicKeys = Array.from({ length: batchSize }, () => kemKeys.publicKey);
  const ciphertexts = Array.from({ length: batchSize }, () => ciphertext);
  const messages = Array.from({ length: batchSize }, () => message);
  const verifyItems = Array.from({ length: batchSize }, () => ({
    message,
    signature,
    publicKey: signatureKeys.publicKey,
  }));

  return [
    {
      algorithm: kemName,
      tasks: [
        { operation: 'keygen', batch: false, call: () => kem.keygen() },
        { operation: 'encapsulate', batch: false, call: () => kem.encapsulate(kemKeys.publicKey) },
        {
          operation: 'decapsulate',
          batch: false,
          call: () => kem.decapsulate(ciphertext, kemKeys.secretKey),
        },
        { operation: 'keygen', batch: true, call: () => kem.keygenBatch(batchSize) },
        { operation: 'encapsulate', batch: true, call: () => kem.encapsulateBatch(publicKeys) },
        {
          operation: 'decapsulate',
          batch: true,
          call: () => kem.decapsulateBatch(ciphertexts, kemKeys.secretKey),
        },
      ],
    },
    {
      algorithm: signatureName,
      tasks: [
        { operation: 'keygen', batch: false, call: () => scheme.keygen() },
        {
          operation: 'sign',
          batch: false,
          call: () => scheme.sign(message, signatureKeys.secretKey),
        },
        {
          operation: 'verify',
          batch: false,
          call: () => scheme.verify(message, signature, signatureKeys.publicKey),
        },
        { operation: 'keygen', batch: true, call: () => scheme.keygenBatch(batchSize) },
        {
          operation: 'sign',
          batch: true,
          call: () => scheme.signBatch(messages, signatureKeys.secretKey),
        },
        { operation: 'verify', batch: true, call: () => scheme.verifyBatch(verifyItems) },
      ],
    },
  ];
}

/**
 * Measures the pool with `workers` workers on one ML-KEM and one ML-DSA parameter set. Single
 * calls keep two requests per worker in flight, so that a worker has the next request queued
 * when it finishes one. Batch calls keep two batches in flight, which the pool splits across its
 * workers, as bulk work such as enrollment does.
 */
export async function measurePool(
  createPool: CreatePool,
  workers: number,
  kemName: KemAlgorithm,
  signatureName: SignatureAlgorithm,
  budget: PoolBudget,
): Promise<BenchResult[]> {
  const pool = await createPool({ size: workers });
  const results: BenchResult[] = [];

  try {
    for (const { algorithm, tasks } of await poolTasks(
      pool,
      kemName,
      signatureName,
      budget.batchSize,
    )) {
      for (const task of tasks) {
        const concurrency = task.batch ? BATCHES_IN_FLIGHT : 2 * workers;
        const itemsPerCall = task.batch ? budget.batchSize : 1;

        await closedLoop(task.call, concurrency, budget.warmupMs, itemsPerCall);
        const { summary, itemsPerSecond } = await closedLoop(
          task.call,
          concurrency,
          budget.durationMs,
          itemsPerCall,
        );

        results.push({
          implementation: 'qynpqc',
          algorithm,
          operation: task.operation,
          mode: task.batch ? 'pool-batch' : 'pool',
          workers,
          opsPerSecond: itemsPerSecond,
          p50Micros: summary.p50Micros,
          p99Micros: summary.p99Micros,
          meanMicros: summary.meanMicros,
          rme: summary.rme,
          samples: summary.samples,
        });
      }
    }
  } finally {
    await pool.close();
  }
  return results;
}
