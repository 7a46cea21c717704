import type { TableCounts } from '../db/schema.js';
import { formatTable } from '../table.js';
import { visible } from '../terminal-text.js';

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

/**
 * The same output with control characters made visible in every line (src/terminal-text.ts): file
 * and account names from outside reach the terminal as text, never as escape sequences.
 */
export function visibleOutput(output: Output): Output {
  return {
    out: (line = '') => output.out(visible(line)),
    err: (line = '') => output.err(visible(line)),
    interactive: output.interactive,
  };
}

/** Left-aligned first column, right-aligned numbers. */
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
