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
 * The spans to read over `days`, in time order, from what QBO says is there (DESIGN §3): the
 * whole range is counted first; a span of at most `maxRows` rows is read as one query (an
 * empty one costs its count only); a larger span is cut in halves between days, and a single
 * day that still has too many rows in halves on whole seconds, until every piece is small
 * enough. Lazy: a span is counted only when the caller asks for the next one, so its count is
 * taken shortly before it is paged.
 */
export async function* planSpans(days: readonly Window[], options: PlanOptions): AsyncGenerator<Span, void, undefined> {
  if (days.length === 0) return;
  const window = spanOf(days);
  const rows = await options.count(window);
  if (rows <= options.maxRows) {
    yield { window, days, count: rows };
  } else if (days.length > 1) {
    options.onCut?.(window, rows, false);
    const middle = Math.ceil(days.length / 2);
    yield* planSpans(days.slice(0, middle), options);
    yield* planSpans(days.slice(middle), options);
  } else {
    options.onCut?.(window, rows, true);
    yield* pieces(days, window, rows, options);
  }
}

/** A crowded day in halves on whole seconds; a second that alone has too many rows is read whole. */
async function* pieces(day: readonly Window[], window: Window, rows: number, options: PlanOptions): AsyncGenerator<Span, void, undefined> {
  const halves = rows > options.maxRows ? splitWindow(window) : undefined;
  if (!halves) {
    yield { window, days: day, count: rows };
    return;
  }
  for (const half of halves) yield* pieces(day, half, await options.count(half), options);
}
