import type { WindowRead } from '../extract/readWindow.js';

export const VOLUMETRY_STREAM = '_volumetry';

/** The evidence record for one stream × window × run (docs/architecture.md, "Evidence stream"). */
export function volumetryRecord(runId: string, stream: string, read: WindowRead): Record<string, unknown> {
  return {
    id: `${runId}/${stream}/${read.window.start}`,
    run_id: runId,
    stream,
    window_start_utc: read.window.start,
    window_end_utc: read.window.end,
    qbo_count: read.qboCount,
    extracted: read.lines.length,
    pages: read.pages,
    requests: read.requests,
    retries: read.retries,
    duration_ms: read.durationMs,
    empty: read.qboCount === 0,
    rereads: read.rereads,
    extracted_at: read.extractedAt,
  };
}

/** The stderr line for one stream × window: UTC day, QBO's count, extracted, pages, duration. */
export function volumetryLine(stream: string, read: WindowRead): string {
  const day = read.window.start.endsWith('T00:00:00Z') && read.window.end.endsWith('T00:00:00Z') && read.window.endMs - read.window.startMs === 86_400_000
    ? read.window.start.slice(0, 10)
    : `${read.window.start}..${read.window.end}`;
  const seconds = (read.durationMs / 1000).toFixed(2);
  if (read.qboCount === 0 && read.lines.length === 0) return `${stream} ${day}: no data (qbo_count=0, ${read.requests} requests, ${seconds} s)`;
  const extras = [read.retries ? `retries=${read.retries}` : '', read.rereads ? `rereads=${read.rereads}` : ''].filter(Boolean).join(' ');
  return `${stream} ${day}: qbo_count=${read.qboCount} extracted=${read.lines.length} pages=${read.pages} requests=${read.requests}${extras ? ' ' + extras : ''} ${seconds} s`;
}
