/**
 * Times operations on the calling thread with tinybench. Implementations that are compared take
 * turns in short rounds (ours, peer, ours, peer, ...), so that drift in machine load during the
 * run affects all of them alike. The samples of all rounds are then pooled.
 */
import { Bench } from 'tinybench';
import type { PreparedOperation } from './implementations.js';
import type { LatencySummary } from './stats.js';
import { summarize } from './stats.js';
import type { ImplementationName } from './types.js';

/** Time spent on each implementation, per operation. */
export interface RoundBudget {
  /** Number of rounds each implementation gets. */
  rounds: number;
  /** Time budget of one implementation in one round, in milliseconds. */
  roundMs: number;
  /** Warmup before the first round, in milliseconds. */
  warmupMs: number;
  /** Minimum calls per implementation and round, even when they exceed roundMs. */
  minCallsPerRound: number;
}

/** One implementation's version of the operation being timed. */
export interface Participant {
  implementation: ImplementationName;
  run: PreparedOperation;
}

/** Returns the samples of `name` from a finished tinybench run, in milliseconds. */
function samplesOf(bench: Bench, name: string): readonly number[] {
  const task = bench.getTask(name);
  const result = task?.result;
  if (
    result === undefined ||
    (result.state !== 'completed' && result.state !== 'aborted-with-statistics')
  ) {
    const state = result?.state ?? 'missing';
    throw new Error(`tinybench task ${name} ended in state ${state}`);
  }

  return result.latency.samples ?? [];
}

/**
 * Runs the participants in alternating rounds and returns each one's statistics over all of its
 * rounds. A participant that throws aborts the whole measurement.
 */
export function measureInterleaved(
  participants: readonly Participant[],
  budget: RoundBudget,
): Map<ImplementationName, LatencySummary> {
  const samples = new Map<ImplementationName, number[]>();
  for (const participant of participants) {
    samples.set(participant.implementation, []);
  }

  for (let round = 0; round < budget.rounds; round++) {
    const bench = new Bench({
      time: budget.roundMs,
      iterations: budget.minCallsPerRound,
      warmup: round === 0,
      warmupTime: budget.warmupMs,
      warmupIterations: 1,
      retainSamples: true,
      throws: true,
    });
    for (const participant of participants) {
      bench.add(participant.implementation, participant.run);
    }

    bench.runSync();

    for (const participant of participants) {
      samples
        .get(participant.implementation)!
        .push(...samplesOf(bench, participant.implementation));
    }
  }

  const summaries = new Map<ImplementationName, LatencySummary>();
  for (const [implementation, latencies] of samples) {
    summaries.set(implementation, summarize(latencies));
  }
  return summaries;
}
