/** Number formatting and plain-text tables for the console report. */

/** Formats an integer-like rate with thousands separators, for example `12,345`. */
export function formatRate(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** Formats a rate compactly for chart labels, for example `12.3k`. */
export function formatCompactRate(value: number): string {
  if (value >= 1e6) {
    return `${(value / 1e6).toPrecision(3)}M`;
  }
  if (value >= 1e3) {
    return `${(value / 1e3).toPrecision(3)}k`;
  }
  return value.toPrecision(3);
}

/** Formats microseconds with one decimal. */
export function formatMicros(value: number): string {
  return value.toFixed(1);
}

/** Formats a throughput ratio, for example `0.93x`. */
export function formatRatio(value: number): string {
  return `${value.toFixed(2)}x`;
}

/** Column of a text table. Numbers read best right-aligned. */
export interface Column {
  header: string;
  align?: 'left' | 'right';
}

/** Renders rows as a text table with a header rule, padding every column to its widest cell. */
export function renderTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
): string {
  const widths = columns.map((column, index) =>
    Math.max(column.header.length, ...rows.map((row) => (row[index] ?? '').length)),
  );

  const renderRow = (cells: readonly string[]): string =>
    columns
      .map((column, index) => {
        const cell = cells[index] ?? '';
        const width = widths[index]!;
        return column.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();

  const header = renderRow(columns.map((column) => column.header));
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [header, rule, ...rows.map(renderRow)].join('\n');
}
