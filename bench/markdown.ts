/**
 * Renders a results file as the Markdown tables of BENCHMARKS.md, written next to the JSON as
 * latest.md, so that a new recorded run is pasted rather than retyped.
 */
import { ALGORITHMS, operationsOf } from './algorithms.js';
import { formatMicros, formatRate, formatRatio } from './format.js';
import type { BenchReport } from './report.js';
import type { Algorithm, BenchResult, ImplementationName, Mode, Operation } from './types.js';
import { PEER_KEM, PEER_SIGNATURE } from './types.js';

const SIDE_BY_SIDE: readonly ImplementationName[] = [
  'qynpqc',
  'qynpqc-baseline',
  '@oqs/liboqs-js',
  '@noble/post-quantum',
  'liboqs-native-portable',
  'liboqs-native-auto',
];

/** Renders a Markdown table whose first `textColumns` columns are left-aligned, the rest right. */
function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  textColumns = 2,
): string {
  const align = headers.map((_, index) => (index < textColumns ? '---' : '---:'));
  return [headers, align, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

function find(
  results: readonly BenchResult[],
  implementation: ImplementationName,
  algorithm: Algorithm,
  operation: Operation,
  mode?: Mode,
  workers?: number,
): BenchResult | undefined {
  return results.find(
    (result) =>
      result.implementation === implementation &&
      result.algorithm === algorithm &&
      result.operation === operation &&
      (mode === undefined
        ? result.mode !== 'pool' && result.mode !== 'pool-batch'
        : result.mode === mode) &&
      (workers === undefined || result.workers === workers),
  );
}

function sideBySide(results: readonly BenchResult[]): string {
  const rows: string[][] = [];
  for (const algorithm of [PEER_KEM, PEER_SIGNATURE]) {
    for (const operation of operationsOf(algorithm)) {
      for (const implementation of SIDE_BY_SIDE) {
        const result = find(results, implementation, algorithm, operation);
        if (result !== undefined) {
          rows.push([
            algorithm,
            operation,
            implementation,
            formatRate(result.opsPerSecond),
            formatMicros(result.meanMicros),
            formatMicros(result.p50Micros),
            formatMicros(result.p99Micros),
            `±${result.rme.toFixed(1)}%`,
          ]);
        }
      }
    }
  }
  return table(
    ['algorithm', 'operation', 'implementation', 'ops/s', 'mean µs', 'p50 µs', 'p99 µs', 'rme'],
    rows,
    3,
  );
}

function ratios(report: BenchReport): string {
  const comparisons = [...new Set(report.ratios.map((ratio) => ratio.comparison))];
  const rows: string[][] = [];
  for (const algorithm of ALGORITHMS) {
    for (const operation of operationsOf(algorithm)) {
      const cells = comparisons.map((comparison) => {
        const ratio = report.ratios.find(
          (entry) =>
            entry.comparison === comparison &&
            entry.algorithm === algorithm &&
            entry.operation === operation,
        );
        return ratio === undefined ? '–' : formatRatio(ratio.ratio);
      });
      rows.push([algorithm, operation, ...cells]);
    }
  }
  return table(['algorithm', 'operation', ...comparisons], rows);
}

function allParameterSets(results: readonly BenchResult[]): string {
  const rows: string[][] = [];
  for (const algorithm of ALGORITHMS) {
    for (const operation of operationsOf(algorithm)) {
      const ours = find(results, 'qynpqc', algorithm, operation, 'in-thread');
      const portable = find(results, 'liboqs-native-portable', algorithm, operation, 'native');
      const auto = find(results, 'liboqs-native-auto', algorithm, operation, 'native');
      rows.push([
        algorithm,
        operation,
        ours === undefined ? '–' : formatRate(ours.opsPerSecond),
        ours === undefined ? '–' : formatMicros(ours.p50Micros),
        ours === undefined ? '–' : formatMicros(ours.p99Micros),
        portable === undefined ? '–' : formatRate(portable.opsPerSecond),
        auto === undefined ? '–' : formatRate(auto.opsPerSecond),
      ]);
    }
  }
  return table(
    [
      'algorithm',
      'operation',
      'qynpqc ops/s',
      'qynpqc p50 µs',
      'qynpqc p99 µs',
      'native portable ops/s',
      'native auto ops/s',
    ],
    rows,
  );
}

function pool(results: readonly BenchResult[]): string | undefined {
  const pooled = results.filter((result) => result.mode === 'pool' || result.mode === 'pool-batch');
  if (pooled.length === 0) {
    return undefined;
  }

  const rows = pooled.map((result) => [
    result.algorithm,
    result.operation,
    result.mode === 'pool' ? 'single calls' : 'batch calls',
    String(result.workers),
    formatRate(result.opsPerSecond),
    formatMicros(result.p50Micros),
    formatMicros(result.p99Micros),
  ]);
  return table(
    ['algorithm', 'operation', 'calls', 'workers', 'ops/s', 'p50 µs', 'p99 µs'],
    rows,
    3,
  );
}

function coldStart(report: BenchReport): string {
  const rows = report.coldStart.map((entry) => [
    entry.implementation,
    String(entry.runs),
    entry.importToKeyPairMs.toFixed(1),
    entry.processStartToKeyPairMs.toFixed(1),
  ]);
  return table(
    ['implementation', 'runs', 'import → key pair, ms', 'process start → key pair, ms'],
    rows,
    1,
  );
}

/** Returns the recorded-run section of BENCHMARKS.md for `report`. */
export function renderMarkdown(report: BenchReport): string {
  const { machine } = report;
  const versions = Object.entries(report.versions)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
  const native = report.native
    .map(
      (build) =>
        `${build.implementation}: liboqs ${build.liboqsVersion}, OQS_OPT_TARGET=${build.optTarget}, AVX2 code ${build.avx2 ? 'on' : 'off'}`,
    )
    .join('; ');

  const sections = [
    `- Command: \`${report.command}\`, ${report.generatedAt}`,
    `- Machine: ${machine.cpuModel}, ${machine.cores} logical CPUs, ${machine.totalMemoryGiB} GiB, ${machine.platform}/${machine.arch}`,
    `- Node ${report.node}, commit \`${report.commit}\`` +
      (report.uncommittedChanges ? ' with uncommitted changes in the working tree' : ''),
    `- Load average (1 min): ${report.loadAverage.start.toFixed(2)} at the start, ` +
      `${report.loadAverage.end.toFixed(2)} at the end, on ${machine.cores} logical CPUs`,
    `- Versions: ${versions}`,
    `- Native builds: ${native || 'not run'}`,
    '',
    `#### ${PEER_KEM} and ${PEER_SIGNATURE}, one thread`,
    '',
    sideBySide(report.results),
    '',
    '#### Throughput ratios (above 1: the first named is faster)',
    '',
    ratios(report),
    '',
    '#### All parameter sets: in-thread against native liboqs',
    '',
    allParameterSets(report.results),
  ];

  const poolTable = pool(report.results);
  sections.push('', '#### Worker pool', '', poolTable ?? 'Not measured in this run.');

  sections.push('', '#### Cold start and module size', '', coldStart(report));
  if (report.moduleSizes.length > 0) {
    sections.push('');
  }
  for (const size of report.moduleSizes) {
    sections.push(
      `- \`${size.path}\`: ${formatRate(size.rawBytes)} bytes, ` +
        `${formatRate(size.gzipBytes)} bytes with gzip -9`,
    );
  }

  if (report.skipped.length > 0) {
    sections.push('', '#### Skipped', '');
    for (const skipped of report.skipped) {
      sections.push(`- ${skipped.implementation}: ${skipped.reason}`);
    }
  }
  return `${sections.join('\n')}\n`;
}
