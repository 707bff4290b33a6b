/**
 * `npm run bench`: measures this SDK in-thread and in the worker pool next to @oqs/liboqs-js,
 * @noble/post-quantum and native liboqs, prints the tables and ratios, and writes
 * bench/results/latest.json, latest.svg and latest.md (quick.* with --quick).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { PqcInstance } from '../src/index.js';
import { ALGORITHMS, operationsOf } from './algorithms.js';
import { measureColdStarts, measureModuleSizes } from './cold-start.js';
import type { ColdStart, ModuleSize } from './cold-start.js';
import type { Implementation, PreparedAlgorithm } from './implementations.js';
import {
  liboqsJsImplementation,
  nobleImplementation,
  moduleVariantOf,
  ourImplementation,
  prepareAlgorithm,
} from './implementations.js';
import { measureInterleaved } from './in-thread.js';
import { renderMarkdown } from './markdown.js';
import type { Participant } from './in-thread.js';
import { describeEnvironment } from './machine.js';
import { buildNative, missingNativeBuilds, NATIVE_BUILDS, runNative } from './native.js';
import type { NativeBuildInfo } from './native.js';
import type { BenchOptions } from './options.js';
import { parseOptions, USAGE, UsageError } from './options.js';
import { measurePool, workerCounts } from './pool.js';
import { computeRatios } from './ratios.js';
import type { BenchReport } from './report.js';
import { renderReport } from './report.js';
import { getPoolFactory, importSdk } from './sdk.js';
import { renderComparisonChart } from './svg.js';
import type { Algorithm, BenchResult, ImplementationName, Skipped } from './types.js';
import { MESSAGE_LENGTH, PEER_KEM, PEER_SIGNATURE } from './types.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_DIRECTORY = join(ROOT, 'bench', 'results');
/** Directory of the WebAssembly modules, relative to the repository. */
const WASM_DIRECTORY = 'wasm';

const logger = pino({ name: 'bench' }, pino.destination(2));

/** Loads each peer; a peer that fails to load or to round-trip is skipped with the reason. */
async function loadPeers(skipped: Skipped[]): Promise<Implementation[]> {
  const loaders: [ImplementationName, () => Promise<Implementation>][] = [
    ['@oqs/liboqs-js', liboqsJsImplementation],
    ['@noble/post-quantum', nobleImplementation],
  ];
  const peers: Implementation[] = [];

  for (const [name, load] of loaders) {
    try {
      const peer = await load();
      for (const algorithm of [PEER_KEM, PEER_SIGNATURE]) {
        (await prepareAlgorithm(peer, algorithm)).dispose();
      }
      peers.push(peer);
    } catch (error) {
      const reason = `failed to load or run on Node ${process.version}: ${(error as Error).message}`;
      logger.warn({ implementation: name, err: error }, 'peer skipped');
      skipped.push({ implementation: name, reason });
    }
  }
  return peers;
}

function toResult(
  prepared: PreparedAlgorithm,
  operation: BenchResult['operation'],
  summary: ReturnType<typeof measureInterleaved> extends Map<unknown, infer S> ? S : never,
): BenchResult {
  return {
    implementation: prepared.implementation,
    algorithm: prepared.algorithm,
    operation,
    mode: 'in-thread',
    workers: 0,
    opsPerSecond: summary.opsPerSecond,
    p50Micros: summary.p50Micros,
    p99Micros: summary.p99Micros,
    meanMicros: summary.meanMicros,
    rme: summary.rme,
    samples: summary.samples,
  };
}

/**
 * Loads this SDK's default module and, when the default is the SIMD build, the baseline build
 * as a second implementation.
 */
async function loadOurs(sdk: Awaited<ReturnType<typeof importSdk>>): Promise<Implementation[]> {
  const pqc: PqcInstance = await sdk.loadPqc();
  const ours = [ourImplementation(pqc)];
  if (moduleVariantOf(pqc) !== 'simd') {
    return ours;
  }

  const baseline = await sdk.loadPqc({ simd: false });
  if (moduleVariantOf(baseline) === 'baseline') {
    ours.push(ourImplementation(baseline, 'qynpqc-baseline'));
  }
  return ours;
}

/** Times the operations of `algorithm` in-thread; on the peer parameter sets peers take turns. */
async function runInThread(
  algorithm: Algorithm,
  ours: readonly Implementation[],
  peers: readonly Implementation[],
  options: BenchOptions,
): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const compared = algorithm === PEER_KEM || algorithm === PEER_SIGNATURE ? peers : [];
  const prepared = await Promise.all(
    [...ours, ...compared].map((implementation) => prepareAlgorithm(implementation, algorithm)),
  );

  for (const operation of operationsOf(algorithm)) {
    logger.info({ algorithm, operation, implementations: prepared.length }, 'in-thread');
    const participants: Participant[] = prepared.map((entry) => ({
      implementation: entry.implementation,
      run: entry.operations[operation]!,
    }));
    const summaries = measureInterleaved(participants, options.budget.inThread);

    for (const entry of prepared) {
      results.push(toResult(entry, operation, summaries.get(entry.implementation)!));
    }
  }

  for (const entry of prepared) {
    entry.dispose();
  }
  return results;
}

/** Measures the pool at 1, 2, 4, ... workers up to the available parallelism. */
async function runPool(
  sdk: Awaited<ReturnType<typeof importSdk>>,
  maxWorkers: number,
  options: BenchOptions,
  skipped: Skipped[],
): Promise<{ results: BenchResult[]; source?: string }> {
  const results: BenchResult[] = [];
  try {
    const { createPool, source } = getPoolFactory(sdk);
    for (const workers of workerCounts(maxWorkers)) {
      logger.info({ workers, source }, 'pool');
      results.push(
        ...(await measurePool(createPool, workers, PEER_KEM, PEER_SIGNATURE, options.budget.pool)),
      );
    }
    return { results, source };
  } catch (error) {
    logger.warn({ err: error }, 'pool skipped');
    skipped.push({ implementation: 'qynpqc pool', reason: `failed: ${(error as Error).message}` });
    return { results: [] };
  }
}

/**
 * Builds the native benchmarks (full runs only) and returns the builds whose binary exists;
 * missing ones are added to `skipped`.
 */
async function prepareNative(
  options: BenchOptions,
  skipped: Skipped[],
): Promise<(typeof NATIVE_BUILDS)[number][]> {
  if (!options.native) {
    return [];
  }

  if (!options.quick) {
    logger.info('make bench-native');
    const failure = await buildNative(ROOT);
    if (failure !== undefined) {
      logger.warn({ reason: failure }, 'native build failed');
    }
  }

  const missing = await missingNativeBuilds(ROOT);
  skipped.push(...missing);
  return NATIVE_BUILDS.filter(
    (build) => !missing.some((entry) => entry.implementation === build.implementation),
  );
}

/**
 * Measures every algorithm in-thread and then natively, one algorithm after the other, so that
 * each native run follows the in-thread run it is compared with.
 */
async function runByAlgorithm(
  ours: readonly Implementation[],
  peers: readonly Implementation[],
  nativeBuilds: readonly (typeof NATIVE_BUILDS)[number][],
  options: BenchOptions,
): Promise<{ results: BenchResult[]; native: NativeBuildInfo[] }> {
  const results: BenchResult[] = [];
  const native = new Map<ImplementationName, NativeBuildInfo>();

  for (const algorithm of ALGORITHMS) {
    results.push(...(await runInThread(algorithm, ours, peers, options)));

    for (const build of nativeBuilds) {
      logger.info({ algorithm, implementation: build.implementation }, 'native');
      const run = await runNative(ROOT, build, algorithm, options.budget.native);
      native.set(build.implementation, run.info);
      results.push(...run.results);
    }
  }
  return { results, native: [...native.values()] };
}

async function runColdStart(
  implementations: readonly ImplementationName[],
  runs: number,
): Promise<{ coldStart: ColdStart[]; moduleSizes: ModuleSize[] }> {
  logger.info({ runs }, 'cold start');
  return {
    coldStart: await measureColdStarts(implementations, runs),
    moduleSizes: await measureModuleSizes(ROOT, WASM_DIRECTORY),
  };
}

async function writeOutputs(report: BenchReport, quick: boolean): Promise<void> {
  const baseName = quick ? 'quick' : 'latest';
  await mkdir(RESULTS_DIRECTORY, { recursive: true });
  await writeFile(
    join(RESULTS_DIRECTORY, `${baseName}.json`),
    `${JSON.stringify(report, null, 2)}\n`,
  );

  const chart = renderComparisonChart(report.results, {
    subtitle: `${report.machine.cpuModel}, ${report.machine.cores} logical CPUs, Node ${report.node}`,
  });
  if (chart !== undefined) {
    await writeFile(join(RESULTS_DIRECTORY, `${baseName}.svg`), chart);
  }
  await writeFile(join(RESULTS_DIRECTORY, `${baseName}.md`), renderMarkdown(report));
  logger.info({ directory: RESULTS_DIRECTORY, baseName }, 'results written');
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }

  const { node, commit, uncommittedChanges, ...machine } = describeEnvironment(ROOT);
  const loadAtStart = loadavg()[0]!;
  const skipped: Skipped[] = [];
  const sdk = await importSdk();
  const ours = await loadOurs(sdk);
  const peers = await loadPeers(skipped);

  const nativeBuilds = await prepareNative(options, skipped);
  const { results, native } = await runByAlgorithm(ours, peers, nativeBuilds, options);
  let poolSource: string | undefined;
  if (options.pool) {
    const pool = await runPool(sdk, machine.availableParallelism, options, skipped);
    results.push(...pool.results);
    poolSource = pool.source;
  }

  const coldStartNames: ImplementationName[] = ['qynpqc', ...peers.map((peer) => peer.name)];
  const { coldStart, moduleSizes } = await runColdStart(
    coldStartNames,
    options.budget.coldStartRuns,
  );

  const versions: Partial<Record<ImplementationName, string>> = {};
  for (const implementation of [...ours, ...peers]) {
    versions[implementation.name] = implementation.version;
  }

  const report: BenchReport = {
    generatedAt: new Date().toISOString(),
    command: options.quick ? 'npm run bench -- --quick' : 'npm run bench',
    quick: options.quick,
    machine,
    node,
    commit,
    uncommittedChanges,
    loadAverage: { start: loadAtStart, end: loadavg()[0]! },
    versions,
    native,
    poolSource,
    messageLength: MESSAGE_LENGTH,
    budget: options.budget,
    results,
    ratios: computeRatios(results, machine.availableParallelism),
    coldStart,
    moduleSizes,
    skipped,
  };

  process.stdout.write(renderReport(report));
  await writeOutputs(report, options.quick);
}

try {
  await main();
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
    process.exitCode = 2;
  } else {
    logger.error({ err: error }, 'benchmark failed');
    process.exitCode = 1;
  }
}
