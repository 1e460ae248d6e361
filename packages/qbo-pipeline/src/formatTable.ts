export type Cell = string | number | boolean | null | undefined;

/** A plain-text table as psql prints it: padded columns, numbers right-aligned, a rule under the header. */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly Cell[]>): string {
  const text = (c: Cell) => (c === null || c === undefined ? '' : typeof c === 'boolean' ? (c ? 'yes' : 'no') : String(c));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => text(r[i]).length)));
  const numeric = headers.map((_h, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === null || r[i] === undefined));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join(' | ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.map((r) => line(headers.map((_h, i) => text(r[i]))))].join('\n');
}

/** Past this many characters a reason does not fit a table's cell (an invalid_grant's is over 500). */
const CELL_CHARS = 80;

/**
 * A reason as a table's cell shows it: whole up to `CELL_CHARS`, else cut at a word and marked
 * `… (see below)`, for a table whose lines under it say it in full (`isCut` tells which to say).
 */
export function cellText(text: string): string {
  if (!isCut(text)) return text;
  const cut = text.slice(0, CELL_CHARS + 1);
  return `${cut.slice(0, cut.lastIndexOf(' ') > 0 ? cut.lastIndexOf(' ') : CELL_CHARS)} … (see below)`;
}

/** Whether `cellText` cuts `text`. */
export const isCut = (text: string) => text.length > CELL_CHARS;

/**
 * 1234 ms → `1.2 s`; long spans in minutes and seconds, from an hour in hours and minutes
 * (`1 h 0 min`, not `60 min 4 s`), from two days in days and hours. Used by the CLI's tables and
 * the console for how long something took.
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return wholeUnits(Math.round(ms / 1000));
}

/**
 * How long ago, or how long until: `45 s`, then from a minute `1 min 54 s` (never `114.3 s`
 * beside a freshness of `7 min 13 s`), `1 h 0 min`, `3 d 2 h`. Tenths of a second say nothing of
 * an instant read off a page or a table.
 */
export function formatAge(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds} s` : wholeUnits(seconds);
}

/** From a minute on, in the two largest units; whole seconds in, so a remainder never reads `60 s`. */
function wholeUnits(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}
