import type { Figure, Row } from './case.ts';

const figure = (f: Figure | undefined) => (f ? `${f.value.toLocaleString('en-US')} ${f.unit}` : '');

/** The table: case, baseline, Errand, ratio, target, verdict; then each row's notes. */
export function printTable(rows: Row[]): void {
  const lines = [
    ['case', 'baseline', 'Errand', 'ratio', 'target', 'verdict'],
    ...rows.map((row) => [
      row.case,
      figure(row.baseline),
      figure(row.errand),
      row.ratio === undefined ? '' : row.ratio.toFixed(2),
      row.target ?? '',
      row.pass === undefined ? '' : row.pass ? 'ok' : 'MISSED',
    ]),
  ];
  const widths =
    lines[0]?.map((_, i) => Math.max(...lines.map((line) => (line[i] ?? '').length))) ?? [];
  console.log('');
  for (const [n, line] of lines.entries()) {
    console.log(line.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | '));
    if (n === 0) console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  }
  for (const row of rows) {
    const what = [row.baseline?.what, row.errand.what].filter(Boolean).join(' vs ');
    console.log(`\n${row.case} (${what})`);
    for (const note of row.notes) console.log(`  ${note}`);
  }
}
