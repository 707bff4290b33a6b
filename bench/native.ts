/**
 * Builds and runs the native liboqs benchmark (native/bench/bench.c, `make bench-native`): the
 * same liboqs source as the WebAssembly module, compiled by gcc once portable and once for
 * this CPU. Each binary runs as a child process and prints its results as JSON.
 */
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Algorithm, BenchResult, ImplementationName, Operation, Skipped } from './types.js';
import { MESSAGE_LENGTH } from './types.js';

const execFileAsync = promisify(execFile);

/** Directory that `make bench-native` writes the binaries to, relative to the repository. */
const NATIVE_DIRECTORY = '.deps/bench-native';
/** Cap on the output read from a native run, in bytes. The benchmark prints a few kilobytes. */
const MAX_OUTPUT_BYTES = 1 << 20;

/** The two native builds and the OQS_OPT_TARGET each was compiled with. */
export const NATIVE_BUILDS = [
  { implementation: 'liboqs-native-portable', target: 'generic' },
  { implementation: 'liboqs-native-auto', target: 'auto' },
] as const satisfies readonly { implementation: ImplementationName; target: string }[];

/** Time spent per operation in each native run. */
export interface NativeBudget {
  timeMs: number;
  warmupMs: number;
}

/** Facts about one native build, as printed by the binary. */
export interface NativeBuildInfo {
  implementation: ImplementationName;
  liboqsVersion: string;
  optTarget: string;
  /** Whether the AVX2 code of ML-KEM-768 and ML-DSA-65 was compiled in. */
  avx2: boolean;
}

interface NativeOutput {
  liboqsVersion: string;
  optTarget: string;
  avx2: boolean;
  results: {
    algorithm: Algorithm;
    operation: Operation;
    samples: number;
    opsPerSecond: number;
    meanMicros: number;
    p50Micros: number;
    p99Micros: number;
    rme: number;
  }[];
}

function binaryPath(root: string, target: string): string {
  return join(root, NATIVE_DIRECTORY, `bench-${target}`);
}

function lastLines(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join(' | ');
}

/**
 * Runs `make bench-native` in `root`. Returns undefined on success, or the reason it failed;
 * make rebuilds only what changed, so this is quick once the libraries exist.
 */
export async function buildNative(root: string): Promise<string | undefined> {
  try {
    await execFileAsync('make', ['--no-print-directory', 'bench-native'], {
      cwd: root,
      maxBuffer: 64 * MAX_OUTPUT_BYTES,
    });
    return undefined;
  } catch (error) {
    const failure = error as Error & { stderr?: string; code?: string | number };
    const detail = failure.stderr ? lastLines(failure.stderr, 3) : failure.message;
    return `make bench-native failed (${String(failure.code ?? 'error')}): ${detail}`;
  }
}

/** Returns the builds whose binary is missing, as skip records naming the command to run. */
export async function missingNativeBuilds(root: string): Promise<Skipped[]> {
  const missing: Skipped[] = [];
  for (const build of NATIVE_BUILDS) {
    const path = binaryPath(root, build.target);
    try {
      await access(path);
    } catch {
      missing.push({
        implementation: build.implementation,
        reason: `${path} not found; run make bench-native (needs gcc, cmake and ninja)`,
      });
    }
  }
  return missing;
}

/** Runs one native build's benchmark on `algorithm` and converts its output into result records. */
export async function runNative(
  root: string,
  build: (typeof NATIVE_BUILDS)[number],
  algorithm: Algorithm,
  budget: NativeBudget,
): Promise<{ info: NativeBuildInfo; results: BenchResult[] }> {
  const args = [
    '--algorithm',
    algorithm,
    '--time-ms',
    String(budget.timeMs),
    '--warmup-ms',
    String(budget.warmupMs),
    '--message-bytes',
    String(MESSAGE_LENGTH),
  ];
  const { stdout } = await execFileAsync(binaryPath(root, build.target), args, {
    maxBuffer: MAX_OUTPUT_BYTES,
  });
  const output = JSON.parse(stdout) as NativeOutput;

  const results = output.results.map((result): BenchResult => ({
    implementation: build.implementation,
    algorithm: result.algorithm,
    operation: result.operation,
    mode: 'native',
    workers: 0,
    opsPerSecond: result.opsPerSecond,
    p50Micros: result.p50Micros,
    p99Micros: result.p99Micros,
    meanMicros: result.meanMicros,
    rme: result.rme,
    samples: result.samples,
  }));
  const info: NativeBuildInfo = {
    implementation: build.implementation,
    liboqsVersion: output.liboqsVersion,
    optTarget: output.optTarget,
    avx2: output.avx2,
  };
  return { info, results };
}
