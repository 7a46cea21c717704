import type { TableCounts } from '../db/schema.js';

/** Where command output goes; stdout for results, stderr for progress and errors. */
export interface Output {
  out(line?: string): void;
  err(line?: string): void;
  readonly interactive: boolean;
}

export const processOutput: Output = {
  out: (line = '') => process.stdout.write(`${line}\n`),
  err: (line = '') => process.stderr.write(`${line}\n`),
  interactive: Boolean(process.stderr.isTTY),
};

/** Left-aligned first column, right-aligned numbers. */
export function formatTable(header: string[], rows: (string | number)[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '').length)));
  const line = (cells: (string | number)[]) =>
    cells
      .map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]!) : String(cell).padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function formatCounts(counts: Record<string, TableCounts>): string {
  const rows = Object.entries(counts)
    .filter(([, c]) => c.inserted + c.updated + c.unchanged + c.removed + c.restored > 0)
    .map(([table, c]) => [table, c.inserted, c.updated, c.unchanged, c.removed, c.restored]);
  if (rows.length === 0) return '(the archive held no records)';
  const total = rows.reduce(
    (sum, row) => sum.map((value, i) => (i === 0 ? 'total' : Number(value) + Number(row[i]))),
    ['total', 0, 0, 0, 0, 0] as (string | number)[],
  );
  return formatTable(['table', 'inserted', 'updated', 'unchanged', 'removed', 'restored'], [...rows, total]);
}
