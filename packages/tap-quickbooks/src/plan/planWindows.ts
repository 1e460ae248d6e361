import { DateTime, type Duration } from 'luxon';

/** A half-open UTC interval `[start, end)`; ISO strings always end in `Z`. */
export interface Window {
  readonly start: string;
  readonly end: string;
  readonly startMs: number;
  readonly endMs: number;
}

export function isoZ(ms: number): string {
  // Second precision is what QBO stores; milliseconds would only add noise to queries and state.
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function makeWindow(startMs: number, endMs: number): Window {
  return Object.freeze({ start: isoZ(startMs), end: isoZ(endMs), startMs, endMs });
}

/**
 * Cuts `[start, end)` into windows on a UTC grid of `step` (P1D → UTC midnights), so a resumed
 * run's windows line up with the first run's. The first and last windows may be partial.
 */
export function planWindows(startMs: number, endMs: number, step: Duration): Window[] {
  const stepMs = step.as('milliseconds');
  const windows: Window[] = [];
  let from = startMs;
  while (from < endMs) {
    const boundary = (Math.floor(from / stepMs) + 1) * stepMs;
    const to = Math.min(boundary, endMs);
    windows.push(makeWindow(from, to));
    from = to;
  }
  return windows;
}

/**
 * The window of `planWindows(startMs, endMs, step)` that holds `atMs` (in `[startMs, endMs)`),
 * without planning them all: a deletion goes out in the window the run read, so its evidence
 * joins that window's (a resumed run's first window starts at its bookmark, not at midnight).
 */
export function windowHolding(atMs: number, startMs: number, endMs: number, step: Duration): Window {
  const stepMs = step.as('milliseconds');
  const gridStart = Math.floor(atMs / stepMs) * stepMs;
  return makeWindow(Math.max(gridStart, startMs), Math.min(gridStart + stepMs, endMs));
}

/**
 * A window cut into `parts` (at least 2) about equal windows on whole seconds (QBO's timestamp
 * precision); fewer when it is too short for that many, undefined when it cannot be cut at all.
 */
export function splitWindow(window: Window, parts = 2): Window[] | undefined {
  const cuts = [window.startMs];
  for (let i = 1; i < parts; i++) {
    const cut = Math.floor((window.startMs + ((window.endMs - window.startMs) * i) / parts) / 1000) * 1000;
    if (cut > cuts[cuts.length - 1]! && cut < window.endMs) cuts.push(cut);
  }
  if (cuts.length < 2) return undefined;
  return cuts.map((from, i) => makeWindow(from, cuts[i + 1] ?? window.endMs));
}

/**
 * A bookmark's instant (epoch ms), or undefined when it is not an ISO 8601 instant. A bookmark
 * another tool or a person wrote is read as start_date is: without an offset it is UTC (not the
 * machine's zone, which would skip the hours between), and it is cut to its second, since QBO's
 * answer for `>= '<that second>'` holds the whole second and a window starting inside it would
 * drop those rows while QBO still counts them.
 */
export function bookmarkInstant(bookmark: string): number | undefined {
  const parsed = DateTime.fromISO(bookmark, { zone: 'utc' });
  return parsed.isValid ? parsed.startOf('second').toMillis() : undefined;
}

/** Where a stream resumes: the later of start_date and its bookmark's instant (D13). */
export function resolveStart(startDate: DateTime, bookmarkMs: number | undefined): number {
  return bookmarkMs === undefined ? startDate.toMillis() : Math.max(startDate.toMillis(), bookmarkMs);
}

/**
 * Where a range ends when no end is given: the run start, to the second, minus `endLag` (the
 * tap's `end_lag`). The one place this is computed: the tap's default `end_date`, and the
 * runner's sync, which gives the tap its end.
 */
export function defaultRangeEnd(runStart: DateTime, endLag: Duration): DateTime {
  return runStart.toUTC().startOf('second').minus(endLag);
}
