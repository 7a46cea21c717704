/**
 * Plain-text tables for people: columns of numbers aligned right, everything else left, with a
 * rule under the header.
 */
const NUMBER = /^[-+]?\d[\d,]*(\.\d+)?$/;

export function formatTable(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const text = rows.map((row) => header.map((_, i) => String(row[i] ?? '')));
  const widths = header.map((h, i) => Math.max(h.length, ...text.map((cells) => cells[i]!.length)));
  const numeric = header.map((_, i) => {
    const cells = text.map((row) => row[i]!).filter((cell) => cell !== '');
    return cells.length > 0 && cells.every((cell) => NUMBER.test(cell));
  });
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...text.map(line)].join('\n');
}
