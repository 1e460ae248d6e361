import { makeWindow, splitWindow, type Window } from './planWindows.js';

/** One query the tap makes: a span of time, QBO's COUNT(*) for it, and the days its records go to. */
export interface Span {
  readonly window: Window;
  /**
   * The days (windows of the `window` setting, UTC days by default) whose records the span
   * holds, in order. A span is whole days, or a piece of one day that holds more rows than a
   * span may; then `days` is that one day.
   */
  readonly days: readonly Window[];
  /** QBO's COUNT(*) for `window`, taken when the span was planned, before it is paged. */
  readonly count: number;
}

export interface PlanOptions {
  /** A span with more rows is cut. */
  readonly maxRows: number;
  /** QBO's COUNT(*) for a window. */
  readonly count: (window: Window) => Promise<number>;
  /** Told of each cut: between days, or (`crowdedDay`) a single day into pieces. */
  readonly onCut?: (window: Window, rows: number, crowdedDay: boolean) => void;
}

function spanOf(days: readonly Window[]): Window {
  return makeWindow(days[0]!.startMs, days[days.length - 1]!.endMs);
}

/**
 * Parts to cut a span of `rows` into: as many as would hold about 2/3 of `maxRows` each if the
 * rows were spread evenly, so most parts need no further cut; at least 2.
 */
function partsFor(rows: number, maxRows: number): number {
  return Math.max(2, Math.ceil((3 * rows) / (2 * maxRows)));
}

/**
 * The spans to read over `days`, in time order, from what QBO says is there (DESIGN §3): the
 * whole range is counted first; a span of at most `maxRows` rows is read as one query (an
 * empty one costs its count only); a larger span is cut between days into parts (see
 * partsFor), and a single day that still has too many rows into parts on whole seconds, until
 * every piece is small enough. Lazy: a span is counted only when the caller asks for the next
 * one, so its count is taken shortly before it is paged.
 */
export async function* planSpans(days: readonly Window[], options: PlanOptions): AsyncGenerator<Span, void, undefined> {
  if (days.length === 0) return;
  const window = spanOf(days);
  const rows = await options.count(window);
  if (rows <= options.maxRows) {
    yield { window, days, count: rows };
  } else if (days.length > 1) {
    options.onCut?.(window, rows, false);
    const parts = Math.min(days.length, partsFor(rows, options.maxRows));
    for (let p = 0; p < parts; p++) {
      yield* planSpans(days.slice(Math.floor((p * days.length) / parts), Math.floor(((p + 1) * days.length) / parts)), options);
    }
  } else {
    options.onCut?.(window, rows, true);
    yield* pieces(days, window, rows, options);
  }
}

/** A crowded day in parts on whole seconds; a second that alone has too many rows is read whole. */
async function* pieces(day: readonly Window[], window: Window, rows: number, options: PlanOptions): AsyncGenerator<Span, void, undefined> {
  const parts = rows > options.maxRows ? splitWindow(window, partsFor(rows, options.maxRows)) : undefined;
  if (!parts) {
    yield { window, days: day, count: rows };
    return;
  }
  for (const part of parts) yield* pieces(day, part, await options.count(part), options);
}
