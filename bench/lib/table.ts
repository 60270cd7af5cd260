export interface Row {
  item: string;
  what: string;
  value: string;
  baseline: string;
  ratio: string;
  goal: string;
  /** 'ok', 'MISS', or '' when there is no goal. */
  status: string;
  /** Other people's work on the machine during the windows behind this row, % of all cores ('' if not measured). */
  others: string;
}

const HEADERS: Row = {
  item: '#',
  what: 'measure',
  value: 'value',
  baseline: 'baseline (same run)',
  ratio: 'ratio',
  goal: 'goal',
  status: '',
  others: 'others',
};

const COLS: (keyof Row)[] = ['item', 'what', 'value', 'baseline', 'ratio', 'goal', 'status', 'others'];

/** A Markdown table padded so that it also reads well in a terminal. */
export function renderTable(rows: Row[]): string {
  const all = [HEADERS, ...rows];
  const width = (c: keyof Row) => Math.max(3, ...all.map((r) => [...r[c]].length));
  const widths = COLS.map(width);
  const pad = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - [...s].length));
  const line = (r: Row) => `| ${COLS.map((c, i) => pad(r[c], widths[i]!)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(HEADERS), rule, ...rows.map(line)].join('\n');
}
