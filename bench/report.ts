/** The results file written to bench/results/ and its rendering as console tables. */
import { ALGORITHMS, operationsOf } from './algorithms.js';
import type { ColdStart, ModuleSize } from './cold-start.js';
import { formatMicros, formatRate, formatRatio, renderTable } from './format.js';
import type { RunEnvironment } from './machine.js';
import type { NativeBuildInfo } from './native.js';
import type { Budget } from './options.js';
import type { Ratio } from './ratios.js';
import type { Algorithm, BenchResult, ImplementationName, Operation, Skipped } from './types.js';
import { PEER_KEM } from './types.js';

/** Contents of bench/results/latest.json. */
export interface BenchReport {
  generatedAt: string;
  /** Command that produced the file. */
  command: string;
  quick: boolean;
  machine: Omit<RunEnvironment, 'node' | 'commit' | 'uncommittedChanges'>;
  node: string;
  commit: string;
  /** Whether tracked files differed from `commit` when the run started. */
  uncommittedChanges: boolean;
  /**
   * One-minute load average of the machine when the run started and ended. Above the number of
   * cores, other processes competed for the CPU and the numbers are noisy.
   */
  loadAverage: { start: number; end: number };
  /** Version of each implementation measured in this process. */
  versions: Partial<Record<ImplementationName, string>>;
  native: NativeBuildInfo[];
  /** Module the pool factory was imported from, when the pool was measured. */
  poolSource: string | undefined;
  /** Length of the message that every implementation signs and verifies, in bytes. */
  messageLength: number;
  budget: Budget;
  results: BenchResult[];
  ratios: Ratio[];
  coldStart: ColdStart[];
  /** Size of each WebAssembly module in wasm/. */
  moduleSizes: ModuleSize[];
  skipped: Skipped[];
}

const MODE_ORDER = ['in-thread', 'native', 'pool', 'pool-batch'];

/** Orders rows as the algorithms and their operations are listed: ML-KEM first, keygen first. */
function compareAlgorithmOperation(
  a: { algorithm: Algorithm; operation: Operation },
  b: { algorithm: Algorithm; operation: Operation },
): number {
  return (
    ALGORITHMS.indexOf(a.algorithm) - ALGORITHMS.indexOf(b.algorithm) ||
    operationsOf(a.algorithm).indexOf(a.operation) - operationsOf(b.algorithm).indexOf(b.operation)
  );
}

function describeWorkers(result: BenchResult): string {
  return result.mode === 'pool' || result.mode === 'pool-batch' ? String(result.workers) : '-';
}

function renderResults(results: readonly BenchResult[]): string {
  const sorted = [...results].sort(
    (a, b) =>
      compareAlgorithmOperation(a, b) ||
      MODE_ORDER.indexOf(a.mode) - MODE_ORDER.indexOf(b.mode) ||
      a.workers - b.workers ||
      a.implementation.localeCompare(b.implementation),
  );
  return renderTable(
    [
      { header: 'algorithm' },
      { header: 'operation' },
      { header: 'implementation' },
      { header: 'mode' },
      { header: 'workers', align: 'right' },
      { header: 'ops/s', align: 'right' },
      { header: 'mean us', align: 'right' },
      { header: 'p50 us', align: 'right' },
      { header: 'p99 us', align: 'right' },
      { header: 'rme', align: 'right' },
    ],
    sorted.map((result) => [
      result.algorithm,
      result.operation,
      result.implementation,
      result.mode,
      describeWorkers(result),
      formatRate(result.opsPerSecond),
      formatMicros(result.meanMicros),
      formatMicros(result.p50Micros),
      formatMicros(result.p99Micros),
      `±${result.rme.toFixed(1)}%`,
    ]),
  );
}

function renderRatios(ratios: readonly Ratio[]): string {
  const comparisons = [...new Set(ratios.map((ratio) => ratio.comparison))];
  const rows = new Map<string, Map<string, number>>();
  for (const ratio of [...ratios].sort(compareAlgorithmOperation)) {
    const row = `${ratio.algorithm}\t${ratio.operation}`;
    if (!rows.has(row)) {
      rows.set(row, new Map());
    }
    rows.get(row)!.set(ratio.comparison, ratio.ratio);
  }

  return renderTable(
    [
      { header: 'algorithm' },
      { header: 'operation' },
      ...comparisons.map((comparison) => ({ header: comparison, align: 'right' as const })),
    ],
    [...rows].map(([row, values]) => [
      ...row.split('\t'),
      ...comparisons.map((comparison) => {
        const value = values.get(comparison);
        return value === undefined ? '-' : formatRatio(value);
      }),
    ]),
  );
}

function renderColdStart(
  coldStart: readonly ColdStart[],
  moduleSizes: readonly ModuleSize[],
): string {
  const lines = [
    renderTable(
      [
        { header: 'implementation' },
        { header: 'runs', align: 'right' },
        { header: 'import to key pair ms', align: 'right' },
        { header: 'process start to key pair ms', align: 'right' },
      ],
      coldStart.map((entry) => [
        entry.implementation,
        String(entry.runs),
        entry.importToKeyPairMs.toFixed(1),
        entry.processStartToKeyPairMs.toFixed(1),
      ]),
    ),
  ];
  if (moduleSizes.length > 0) {
    lines.push('');
  }
  for (const size of moduleSizes) {
    lines.push(
      `Module ${size.path}: ${formatRate(size.rawBytes)} bytes raw, ` +
        `${formatRate(size.gzipBytes)} bytes gzip -9`,
    );
  }
  return lines.join('\n');
}

/** Renders the whole report as text for stdout. */
export function renderReport(report: BenchReport): string {
  const { machine } = report;
  const sections = [
    `${report.command} on ${machine.cpuModel} (${machine.cores} logical CPUs, ` +
      `${machine.totalMemoryGiB} GiB), Node ${report.node}, commit ${report.commit}` +
      (report.uncommittedChanges ? ' with uncommitted changes' : ''),
    `Load average (1 min): ${report.loadAverage.start.toFixed(2)} at the start, ` +
      `${report.loadAverage.end.toFixed(2)} at the end`,
    `Versions: ${Object.entries(report.versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(', ')}`,
    '',
    'Throughput and latency (in-thread ops/s = 1 / mean latency; pool ops/s = items per ' +
      'wall-clock second; batch latencies are per item)',
    renderResults(report.results),
    '',
    'Throughput ratios (above 1 means the first named is faster)',
    report.ratios.length > 0 ? renderRatios(report.ratios) : '(no pairs measured)',
    '',
    `Cold start: fresh node process, first ${PEER_KEM} key pair (median)`,
    renderColdStart(report.coldStart, report.moduleSizes),
  ];
  if (report.skipped.length > 0) {
    sections.push('', 'Skipped:');
    for (const skipped of report.skipped) {
      sections.push(`  ${skipped.implementation}: ${skipped.reason}`);
    }
  }
  return `${sections.join('\n')}\n`;
}
