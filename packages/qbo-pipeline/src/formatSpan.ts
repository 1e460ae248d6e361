const DAY_MS = 86_400_000;

/** Largest first: a span reads in the largest unit it holds at least once. */
const UNITS = [
  { ms: DAY_MS, name: 'days', one: 'day' },
  { ms: 3_600_000, name: 'h', one: 'h' },
  { ms: 60_000, name: 'min', one: 'min' },
  { ms: 1000, name: 's', one: 's' },
] as const;

type Unit = (typeof UNITS)[number];

const unitFor = (ms: number): Unit => UNITS.find((u) => ms >= u.ms) ?? UNITS[UNITS.length - 1]!;
const inUnit = (ms: number, unit: Unit) => Math.round((ms / unit.ms) * 100) / 100;
const named = (value: number, unit: Unit) => (value === 1 ? unit.one : unit.name);

/** A span in days, to two decimals (what the runs journal keeps). */
export const daysOf = (ms: number) => inUnit(ms, UNITS[0]);

/** A span of a run's range as a person reads it: `30 days`, `3.99 days`, `5.5 h`, `4.17 min`, `1 s`; a span of minutes never reads `0 days`. */
export function formatSpan(ms: number): string {
  const unit = unitFor(ms);
  const value = inUnit(ms, unit);
  return `${value} ${named(value, unit)}`;
}

/** How much of a span is committed, both in the whole span's unit: `12/30 days`, `2.5/4.17 min`. */
export function formatDone(doneMs: number, totalMs: number): string {
  const unit = unitFor(totalMs);
  const total = inUnit(totalMs, unit);
  return `${inUnit(doneMs, unit)}/${total} ${named(total, unit)}`;
}
