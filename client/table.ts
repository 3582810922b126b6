// Readable tables for the CLI's output (cli-table3), kept plain so they paste well.

import Table from 'cli-table3';

/** A table; with no `head`, one without a header row (a list of name-value rows). */
export function renderTable(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) t.push(r.map(String));
  return t.toString();
}
