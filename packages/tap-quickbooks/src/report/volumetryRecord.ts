import type { Span } from '../plan/planSpans.js';
import { makeWindow, type Window } from '../plan/planWindows.js';

export const VOLUMETRY_STREAM = '_volumetry';

/** What reading cost: pages, requests (retries among them), re-reads after a count mismatch, wall time. */
export interface ReadCost {
  readonly pages: number;
  readonly requests: number;
  readonly retries: number;
  readonly rereads: number;
  readonly durationMs: number;
}

const NO_COST: ReadCost = Object.freeze({ pages: 0, requests: 0, retries: 0, rereads: 0, durationMs: 0 });

/** The two costs added up (only the cost fields of either). */
function addCost(a: ReadCost, b: ReadCost): ReadCost {
  return {
    pages: a.pages + b.pages,
    requests: a.requests + b.requests,
    retries: a.retries + b.retries,
    rereads: a.rereads + b.rereads,
    durationMs: a.durationMs + b.durationMs,
  };
}

/**
 * What a run knows about one day of one stream: the `_volumetry` record (docs/evidence.md). A
 * span's cost (pages, requests, retries, re-reads, time) counts on its first day, so sums over days are exact.
 */
export interface DayEvidence extends ReadCost {
  readonly day: Window;
  /** QBO's COUNT(*) when the day was queried alone (or in pieces: their sum); else its records in the span's answer. */
  readonly qboCount: number;
  readonly extracted: number;
  readonly extractedAt: string;
  /** What was queried for the day: the span (for a crowded day, the union of its pieces so far). */
  readonly span: Window;
  /** QBO's COUNT(*) for that span, taken before paging (for pieces: their sum). */
  readonly spanQboCount: number;
  /** Queries (each with its own count and completeness check) the day was read in: 1, or its pieces. */
  readonly spans: number;
}

/** The facts of one span read that its evidence is made of (extract/readSpan's SpanRead). */
export interface SpanFacts {
  readonly span: Span;
  /** COUNT(*) taken before paging. */
  readonly qboCount: number;
  /** Records read per day of `span.days`. */
  readonly perDay: readonly number[];
  readonly cost: ReadCost;
  readonly extractedAt: string;
}

/** One query's read as the stderr line and the report see it (a span of a stream, or the deletions' CDC window). */
export interface ReadDone extends ReadCost {
  readonly window: Window;
  readonly qboCount: number;
  readonly extracted: number;
}

/** A day's evidence is complete once what was queried reaches the day's end. */
export function dayComplete(evidence: DayEvidence): boolean {
  return evidence.span.endMs >= evidence.day.endMs;
}

/**
 * The evidence of the days a span read, in `span.days` order. A span over several days gives
 * each day its own records' count; a span that is one day, or a piece of one, adds to `open`
 * (the same day's evidence from the pieces before it), and is complete only with the day's last piece.
 */
export function spanEvidence(read: SpanFacts, open: DayEvidence | undefined): DayEvidence[] {
  const { window, days } = read.span;
  if (days.length === 1) {
    const day = days[0]!;
    const before = open && open.day.startMs === day.startMs ? open : undefined;
    return [
      {
        day,
        qboCount: (before?.qboCount ?? 0) + read.qboCount,
        extracted: (before?.extracted ?? 0) + read.perDay[0]!,
        ...addCost(before ?? NO_COST, read.cost),
        extractedAt: read.extractedAt,
        span: before ? makeWindow(before.span.startMs, window.endMs) : window,
        spanQboCount: (before?.spanQboCount ?? 0) + read.qboCount,
        spans: (before?.spans ?? 0) + 1,
      },
    ];
  }
  return days.map((day, d) => {
    const first = d === 0;
    return {
      day,
      qboCount: read.perDay[d]!,
      extracted: read.perDay[d]!,
      ...(first ? read.cost : NO_COST),
      extractedAt: read.extractedAt,
      span: window,
      spanQboCount: read.qboCount,
      spans: 1,
    };
  });
}

/** The `_volumetry` record of one stream × day × run (docs/architecture.md, "Evidence stream"). */
export function volumetryRecord(runId: string, stream: string, e: DayEvidence): Record<string, unknown> {
  return {
    id: `${runId}/${stream}/${e.day.start}`,
    run_id: runId,
    stream,
    window_start_utc: e.day.start,
    window_end_utc: e.day.end,
    qbo_count: e.qboCount,
    extracted: e.extracted,
    pages: e.pages,
    requests: e.requests,
    retries: e.retries,
    duration_ms: e.durationMs,
    empty: e.qboCount === 0,
    rereads: e.rereads,
    extracted_at: e.extractedAt,
    span_start_utc: e.span.start,
    span_end_utc: e.span.end,
    span_qbo_count: e.spanQboCount,
    spans: e.spans,
  };
}

const DAY_MS = 86_400_000;

/** `2025-03-05` for one UTC day; `[2025-03-05, 2025-03-10) 5 days` for whole days; else the instants. */
export function spanLabel(window: Window): string {
  const midnights = window.startMs % DAY_MS === 0 && window.endMs % DAY_MS === 0;
  if (!midnights) return `[${window.start}, ${window.end})`;
  const days = (window.endMs - window.startMs) / DAY_MS;
  return days === 1 ? window.start.slice(0, 10) : `[${window.start.slice(0, 10)}, ${window.end.slice(0, 10)}) ${days} days`;
}

/**
 * The stderr line for one span read: what was queried, QBO's count, extracted, pages, requests,
 * time, each as key=value (`requests=1`, never `1 requests`), an empty span's too.
 */
export function spanLine(stream: string, read: ReadDone): string {
  const label = spanLabel(read.window);
  const seconds = (read.durationMs / 1000).toFixed(2);
  if (read.qboCount === 0 && read.extracted === 0) return `${stream} ${label}: no data (qbo_count=0 requests=${read.requests} ${seconds} s)`;
  const extras = [read.retries ? `retries=${read.retries}` : '', read.rereads ? `rereads=${read.rereads}` : ''].filter(Boolean).join(' ');
  return `${stream} ${label}: qbo_count=${read.qboCount} extracted=${read.extracted} pages=${read.pages} requests=${read.requests}${extras ? ' ' + extras : ''} ${seconds} s`;
}
