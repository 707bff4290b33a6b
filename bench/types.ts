/** Names and record shapes shared by the benchmark modules and written to results/latest.json. */
import type { KemAlgorithm, SignatureAlgorithm } from '../src/index.js';

/** Implementations compared, as named in the results file. */
export const IMPLEMENTATIONS = [
  'qynpqc',
  'qynpqc-baseline',
  '@oqs/liboqs-js',
  '@noble/post-quantum',
  'liboqs-native-portable',
  'liboqs-native-auto',
] as const;

/** Name of one compared implementation. */
export type ImplementationName = (typeof IMPLEMENTATIONS)[number];

/** Any of the six parameter sets. */
export type Algorithm = KemAlgorithm | SignatureAlgorithm;

/** Operations of ML-KEM. */
export const KEM_OPERATIONS = ['keygen', 'encapsulate', 'decapsulate'] as const;
/** Operations of ML-DSA. */
export const SIGNATURE_OPERATIONS = ['keygen', 'sign', 'verify'] as const;

/** Name of one measured operation. */
export type Operation = (typeof KEM_OPERATIONS)[number] | (typeof SIGNATURE_OPERATIONS)[number];

/**
 * Execution mode of a measurement: the calling thread, the worker pool one call at a time, the
 * pool's batch calls, or a native process.
 */
export type Mode = 'in-thread' | 'pool' | 'pool-batch' | 'native';

/** Parameter sets that every peer is measured on, side by side with ours. */
export const PEER_KEM: KemAlgorithm = 'ML-KEM-768';
/** Signature parameter set that every peer is measured on. */
export const PEER_SIGNATURE: SignatureAlgorithm = 'ML-DSA-65';

/** Message length signed and verified by every implementation, in bytes. */
export const MESSAGE_LENGTH = 32;

/** Latency and throughput of one implementation, algorithm, operation and mode. */
export interface BenchResult {
  implementation: ImplementationName;
  algorithm: Algorithm;
  operation: Operation;
  mode: Mode;
  /** Worker threads used; 0 for in-thread and native runs. */
  workers: number;
  opsPerSecond: number;
  /** Median latency of one call in microseconds (of one item for batch calls). */
  p50Micros: number;
  /** 99th-percentile latency of one call in microseconds (of one item for batch calls). */
  p99Micros: number;
  meanMicros: number;
  /** Relative margin of error of the mean at 95% confidence, in percent. */
  rme: number;
  /** Number of latency samples behind the statistics. */
  samples: number;
}

/** An implementation that was not measured, and why. */
export interface Skipped {
  implementation: ImplementationName | 'qynpqc pool';
  reason: string;
}
