/**
 * Profiles one build of the module with the V8 sampling profiler and prints where the time
 * goes, by function. Run it with
 *
 *   npx tsx bench/simd-profile.ts --variant simd|baseline [--top N]
 *
 * The workload is 3,000 ML-KEM-768 rounds of keygen, encapsulate and decapsulate, then 1,000
 * ML-DSA-65 signatures and 1,000 ML-DSA-65 key pairs. The profiler runs in-process through
 * node:inspector and only around the workload, so module loading and tsx do not show up. Each
 * function's share is its self time over all samples taken during the workload.
 */
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { loadPqc } from '../src/index.js';
import type { PqcInstance } from '../src/index.js';

const KEM_ROUNDS = 3000;
const SIGNATURES = 1000;
const KEY_PAIRS = 1000;
const DEFAULT_TOP = 25;
/** Sampling interval of the profiler, in microseconds. */
const SAMPLING_INTERVAL_US = 100;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Runs the workload and returns the wall-clock time of each part, in milliseconds. */
function runWorkload(pqc: PqcInstance): Record<string, number> {
  const kem = pqc.kem('ML-KEM-768');
  const dsa = pqc.signature('ML-DSA-65');
  const message = new Uint8Array(32);
  const timings: Record<string, number> = {};

  let start = performance.now();
  for (let i = 0; i < KEM_ROUNDS; i++) {
    const { publicKey, secretKey } = kem.keygen();
    const { ciphertext } = kem.encapsulate(publicKey);
    kem.decapsulate(ciphertext, secretKey);
  }
  timings[`${KEM_ROUNDS} ML-KEM-768 rounds`] = performance.now() - start;

  const { secretKey } = dsa.keygen();
  start = performance.now();
  for (let i = 0; i < SIGNATURES; i++) {
    dsa.sign(message, secretKey);
  }
  timings[`${SIGNATURES} ML-DSA-65 signatures`] = performance.now() - start;

  start = performance.now();
  for (let i = 0; i < KEY_PAIRS; i++) {
    dsa.keygen();
  }
  timings[`${KEY_PAIRS} ML-DSA-65 key pairs`] = performance.now() - start;
  return timings;
}

/** Runs a short pass of every operation, so that the profile shows optimised code. */
function warmUp(instance: PqcInstance): void {
  const kem = instance.kem('ML-KEM-768');
  const dsa = instance.signature('ML-DSA-65');
  for (let i = 0; i < 50; i++) {
    const { publicKey, secretKey } = kem.keygen();
    kem.decapsulate(kem.encapsulate(publicKey).ciphertext, secretKey);
    dsa.sign(new Uint8Array(32), dsa.keygen().secretKey);
  }
}

/** Self time per function name in milliseconds, and the total, from a CPU profile. */
function selfTimes(profile: Profile): { byFunction: Map<string, number>; totalMs: number } {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byFunction = new Map<string, number>();
  let totalMs = 0;

  for (let i = 0; i < profile.samples.length; i++) {
    const node = nodes.get(profile.samples[i]!)!;
    const { functionName, url } = node.callFrame;
    const origin = url.startsWith('wasm://') ? 'wasm' : 'js';
    const name = `${functionName || '(anonymous)'} [${origin}]`;
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    totalMs += ms;
  }
  return { byFunction, totalMs };
}

const { values } = parseArgs({
  options: { variant: { type: 'string' }, top: { type: 'string' } },
  strict: true,
});
if (values.variant !== 'simd' && values.variant !== 'baseline') {
  throw new Error(`--variant must be simd or baseline, got '${values.variant ?? ''}'`);
}
const top = values.top === undefined ? DEFAULT_TOP : Number(values.top);
if (!Number.isInteger(top) || top <= 0) {
  throw new Error(`--top must be a positive integer, got '${values.top}'`);
}

const pqc = await loadPqc({ simd: values.variant === 'simd' });
warmUp(pqc);

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
await session.post('Profiler.start');
const timings = runWorkload(pqc);
const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
session.disconnect();

const { byFunction, totalMs } = selfTimes(profile);
console.log(`${pqc.moduleVariant} module, liboqs ${pqc.liboqsVersion}, Node ${process.version}`);
for (const [label, ms] of Object.entries(timings)) {
  console.log(`${label}: ${ms.toFixed(0)} ms`);
}
console.log(`sampled ${totalMs.toFixed(0)} ms; self time by function:`);
for (const [name, ms] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  const share = ((100 * ms) / totalMs).toFixed(1).padStart(5);
  console.log(`${share} %  ${ms.toFixed(0).padStart(6)} ms  ${name}`);
}
