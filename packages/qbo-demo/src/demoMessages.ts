import { formatDuration } from 'qbo-pipeline';
import { plural } from 'singer-kit';

/** Where the demo's PostgreSQL is when the demo ends: the caller's, kept up until Ctrl-C, or stopped with the demo. */
export type DemoServer = 'external' | 'kept' | 'stopped';

const KEEP_RUNNING_COMMAND = 'npm run demo -- --keep-running';

/**
 * How to connect, said before the demo ends: never a URL to a server that is about to stop. A
 * stopped server's port is not the next run's (each run takes a free one), so none is given then.
 */
export function connectAdvice(server: DemoServer, url: string): string {
  if (server === 'stopped')
    return `PostgreSQL stops when the demo ends (no terminal to keep it up for you). To query it afterwards: ${KEEP_RUNNING_COMMAND}, which prints the psql command to connect with (the port changes from run to run)`;
  return `Connect:  psql '${url}'${server === 'kept' ? '   (PostgreSQL stays up until Ctrl-C)' : ''}`;
}

/** The demo's last line about its PostgreSQL. */
export function serverEndLine(server: Exclude<DemoServer, 'external'>, pgDir: string): string {
  return server === 'kept'
    ? 'PostgreSQL and the console stay up for you; press Ctrl-C to stop them.'
    : `PostgreSQL has stopped; its data stays in ${pgDir} for the next demo (${KEEP_RUNNING_COMMAND} keeps it up until Ctrl-C).`;
}

/** What a demo kept up says once Ctrl-C has stopped it, where the terminal fell silent: what stopped, and where the data stays. */
export function stoppedLine(server: DemoServer, pgDir: string): string {
  return server === 'kept' ? `Stopped PostgreSQL and the console; the data stays in ${pgDir} for the next demo.` : 'Stopped the console.';
}

/** The demo's last line: the console's URL, and whether it is still up (it stops with a demo run without a terminal). */
export function consoleLine(up: boolean, url: string): string {
  return up ? `Console: ${url}` : `Console: ${url} (it stopped with the demo; ${KEEP_RUNNING_COMMAND} keeps it up until Ctrl-C)`;
}

/** One stream's UTC day in the demo's volumetry table, and the span whose query read it (docs/evidence.md, "Days and spans"). */
export interface DayRead {
  /** `2025-01-07` */
  readonly day: string;
  readonly extracted: number;
  readonly pages: number;
  readonly requests: number;
  readonly durationMs: number;
  readonly spanStart: string;
  readonly spanEnd: string;
  /** Queries the day was read in: 1, or the pieces of a crowded day. */
  readonly spans: number;
}

const DAY_MS = 86_400_000;

/**
 * Pure: how a day was read, in words. A span's pages and time count on its first day and are 0 on
 * the others, so a later day names the query that read it rather than say `pages 0`, which read as
 * if nothing was fetched; a day without records says so.
 */
export function dayReadText(r: DayRead): string {
  const spanDay = r.spanStart.slice(0, 10);
  if (spanDay !== r.day) return `${r.extracted === 0 ? 'no records ' : ''}in the query from ${spanDay}`;
  const days = Math.ceil(Date.parse(r.spanEnd) / DAY_MS) - Math.floor(Date.parse(r.spanStart) / DAY_MS);
  const query = days > 1 ? `query of ${days} days from here` : r.spans > 1 ? `${r.spans} queries of this day` : 'query of this day';
  // An empty span costs QBO's count only (no page is read).
  if (r.pages === 0) return `no records: QBO counted none (${query}, ${plural(r.requests, 'request')})`;
  return `${r.extracted === 0 ? 'no records; ' : ''}${query}: ${plural(r.pages, 'page')} in ${formatDuration(r.durationMs)}`;
}
