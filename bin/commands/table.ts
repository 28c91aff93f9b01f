/** Plain tables for people: a header row and left-aligned, padded columns (like kubectl). */

/** Renders rows under `headers`; cells longer than `maxWidth` are cut with an ellipsis. */
export function table(headers: string[], rows: Array<Array<string | number | boolean | undefined>>, maxWidth = 60): string {
  const cells = rows.map((r) => r.map((c) => cut(c === undefined ? '-' : String(c), maxWidth)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n') + '\n';
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Prints `value` as indented JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Seconds or minutes since `ms` (ms since the epoch), for an AGE column. */
export function age(ms: number | undefined, now = Date.now()): string {
  if (ms === undefined || ms <= 0) return '-';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
