/**
 * Draws the main comparison as a standalone SVG: operations per second of each implementation
 * for the ML-KEM-768 and ML-DSA-65 operations, as horizontal bars on a logarithmic axis,
 * because the implementations differ by more than two orders of magnitude.
 */
import { formatCompactRate } from './format.js';
import type { Algorithm, BenchResult, ImplementationName, Operation } from './types.js';
import { PEER_KEM, PEER_SIGNATURE } from './types.js';

/** Bar colour of each implementation (Okabe-Ito palette, readable with colour blindness). */
const COLORS: Record<ImplementationName, string> = {
  qynpqc: '#0072B2',
  'qynpqc-baseline': '#56B4E9',
  '@oqs/liboqs-js': '#E69F00',
  '@noble/post-quantum': '#009E73',
  'liboqs-native-portable': '#CC79A7',
  'liboqs-native-auto': '#D55E00',
};

const CHART_ORDER: readonly ImplementationName[] = [
  'qynpqc',
  'qynpqc-baseline',
  '@oqs/liboqs-js',
  '@noble/post-quantum',
  'liboqs-native-portable',
  'liboqs-native-auto',
];

const GROUPS: readonly { algorithm: Algorithm; operation: Operation }[] = [
  { algorithm: PEER_KEM, operation: 'keygen' },
  { algorithm: PEER_KEM, operation: 'encapsulate' },
  { algorithm: PEER_KEM, operation: 'decapsulate' },
  { algorithm: PEER_SIGNATURE, operation: 'keygen' },
  { algorithm: PEER_SIGNATURE, operation: 'sign' },
  { algorithm: PEER_SIGNATURE, operation: 'verify' },
];

const WIDTH = 880;
const LABEL_WIDTH = 190;
const VALUE_LABEL_WIDTH = 56;
const PLOT_LEFT = LABEL_WIDTH;
const PLOT_RIGHT = WIDTH - VALUE_LABEL_WIDTH;
const TOP = 96;
const BAR_HEIGHT = 13;
const BAR_GAP = 3;
const GROUP_GAP = 18;
const AXIS_HEIGHT = 40;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

/** Labels a power of ten on the axis, for example `1k` or `100k`. */
function formatDecade(decade: number): string {
  const value = 10 ** decade;
  if (value >= 1e6) {
    return `${value / 1e6}M`;
  }
  return value >= 1e3 ? `${value / 1e3}k` : String(value);
}

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

/** Result shown for an implementation: in-thread for the JavaScript ones, native otherwise. */
function chartValue(
  results: readonly BenchResult[],
  implementation: ImplementationName,
  algorithm: Algorithm,
  operation: Operation,
): BenchResult | undefined {
  return results.find(
    (result) =>
      result.implementation === implementation &&
      result.algorithm === algorithm &&
      result.operation === operation &&
      (result.mode === 'in-thread' || result.mode === 'native'),
  );
}

/** Text under the chart title. */
export interface ChartCaption {
  /** Machine and Node version, for example. */
  subtitle: string;
}

/** Returns the SVG document of the main comparison, or undefined when nothing was measured. */
export function renderComparisonChart(
  results: readonly BenchResult[],
  caption: ChartCaption,
): string | undefined {
  const present = CHART_ORDER.filter((implementation) =>
    GROUPS.some((group) => chartValue(results, implementation, group.algorithm, group.operation)),
  );
  const values = GROUPS.flatMap((group) =>
    present
      .map((implementation) =>
        chartValue(results, implementation, group.algorithm, group.operation),
      )
      .filter((result): result is BenchResult => result !== undefined)
      .map((result) => result.opsPerSecond),
  );
  if (values.length === 0) {
    return undefined;
  }

  // Half the smallest value keeps the shortest bar visibly longer than zero.
  const minDecade = Math.floor(Math.log10(Math.min(...values) / 2));
  const maxDecade = Math.ceil(Math.log10(Math.max(...values)));
  const decades = Math.max(1, maxDecade - minDecade);
  const x = (value: number): number =>
    PLOT_LEFT + ((Math.log10(value) - minDecade) / decades) * (PLOT_RIGHT - PLOT_LEFT);

  const groupHeight = present.length * (BAR_HEIGHT + BAR_GAP) - BAR_GAP;
  const plotBottom = TOP + GROUPS.length * (groupHeight + GROUP_GAP) - GROUP_GAP;
  const height = plotBottom + AXIS_HEIGHT;
  const parts: string[] = [];

  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" ` +
      `viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="title">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text id="title" x="16" y="26" ${FONT} font-size="16" font-weight="600" fill="#111">` +
      `${escapeXml(`${PEER_KEM} and ${PEER_SIGNATURE}: operations per second, one thread`)}</text>`,
    `<text x="16" y="46" ${FONT} font-size="12" fill="#444">` +
      `${escapeXml(`${caption.subtitle}. Logarithmic axis; longer is faster.`)}</text>`,
  );

  let legendX = 16;
  for (const implementation of present) {
    parts.push(
      `<rect x="${legendX}" y="62" width="12" height="12" fill="${COLORS[implementation]}"/>`,
      `<text x="${legendX + 17}" y="72" ${FONT} font-size="12" fill="#222">` +
        `${escapeXml(implementation)}</text>`,
    );
    legendX += 30 + implementation.length * 7;
  }

  for (let decade = minDecade; decade <= minDecade + decades; decade++) {
    const gridX = x(10 ** decade).toFixed(1);
    parts.push(
      `<line x1="${gridX}" y1="${TOP - 6}" x2="${gridX}" y2="${plotBottom + 4}" stroke="#ddd"/>`,
      `<text x="${gridX}" y="${plotBottom + 20}" ${FONT} font-size="11" fill="#555" ` +
        `text-anchor="middle">${formatDecade(decade)}</text>`,
    );
  }
  parts.push(
    `<text x="${(PLOT_LEFT + PLOT_RIGHT) / 2}" y="${plotBottom + 36}" ${FONT} font-size="11" ` +
      `fill="#555" text-anchor="middle">operations per second</text>`,
  );

  GROUPS.forEach((group, groupIndex) => {
    const groupTop = TOP + groupIndex * (groupHeight + GROUP_GAP);
    parts.push(
      `<text x="${PLOT_LEFT - 10}" y="${groupTop + groupHeight / 2 + 4}" ${FONT} font-size="12" ` +
        `fill="#111" text-anchor="end">${escapeXml(`${group.algorithm} ${group.operation}`)}</text>`,
    );

    present.forEach((implementation, barIndex) => {
      const result = chartValue(results, implementation, group.algorithm, group.operation);
      if (result === undefined) {
        return;
      }
      const barTop = groupTop + barIndex * (BAR_HEIGHT + BAR_GAP);
      const barEnd = Math.max(PLOT_LEFT + 1, x(result.opsPerSecond));
      const tooltip = `${implementation}: ${Math.round(result.opsPerSecond)} ops/s`;
      parts.push(
        `<rect x="${PLOT_LEFT}" y="${barTop}" width="${(barEnd - PLOT_LEFT).toFixed(1)}" ` +
          `height="${BAR_HEIGHT}" fill="${COLORS[implementation]}"><title>${escapeXml(tooltip)}` +
          `</title></rect>`,
        `<text x="${(barEnd + 4).toFixed(1)}" y="${barTop + BAR_HEIGHT - 2}" ${FONT} ` +
          `font-size="10" fill="#333">${formatCompactRate(result.opsPerSecond)}</text>`,
      );
    });
  });

  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
