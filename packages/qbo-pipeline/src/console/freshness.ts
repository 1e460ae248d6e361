import { Duration } from 'luxon';
import { entityByStream } from 'qbo-catalog';
import { plural } from 'singer-kit';
import { CDC_LOOKBACK_MS, endLagSetting } from 'tap-quickbooks';
import type { Company } from '../companies/parseCompanies.js';
import type { RunRecord } from '../runs/RunRecord.js';
import type { JobState } from '../stateFile.js';
import { utc } from '../formatTime.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/**
 * A daily sync keeps every bookmark within a day and a bit of its start; past this (beyond the
 * company's end_lag, which every bookmark is behind by design) a stream is called stale.
 */
export const STALE_AFTER_MS = 36 * HOUR_MS;

/**
 * The tap's `end_lag` a company's runs use: each run reads up to that long before its start (QBO
 * shows a change a little after it is made), so even a bookmark a run has just committed is that
 * far behind it.
 */
export interface EndLag {
  /** ISO 8601, as the setting is written (`PT5M`). */
  readonly iso: string;
  readonly ms: number;
}

const endLag = (lag: Duration): EndLag => ({ iso: lag.toISO() ?? 'PT0S', ms: lag.toMillis() });

/**
 * Pure: the end_lag a company's runs use, as `readsDeletionsOf` finds include_deleted: the
 * company's own setting in the companies file (`tap:` of the company or of `defaults:`, which wins
 * over every other source in its runs; `parseCompanies` refused the file if the tap would not take
 * it); else what its newest run recorded as its settings were
 * checked (`RunRecord.endLag`: from its --tap-config and environment, which a console or `company
 * list` may not share); else the tap's default. `runs` newest first, as the journal lists them.
 */
export function endLagOf(company: Pick<Company, 'tap'> | undefined, runs: readonly Pick<RunRecord, 'endLag'>[]): EndLag {
  const given = company?.tap.end_lag;
  if (given !== undefined) return endLag(endLagSetting({ end_lag: given }));
  const recorded = runs.find((r) => r.endLag !== undefined)?.endLag;
  const lag = recorded === undefined ? undefined : Duration.fromISO(recorded);
  return endLag(lag?.isValid ? lag : endLagSetting({}));
}

/** An end_lag in words: `5 minutes`, `1 hour, 30 minutes`, `none`. */
export function endLagWords(lag: EndLag): string {
  return lag.ms === 0 ? 'none' : Duration.fromMillis(lag.ms, { locale: 'en-US' }).rescale().toHuman();
}

/** What a person reads of an `EndLag`: `runs read up to 5 minutes before they start (end_lag PT5M)`. */
export function endLagText(lag: EndLag): string {
  return `runs read up to ${lag.ms === 0 ? 'the moment' : `${endLagWords(lag)} before`} they start (end_lag ${lag.iso})`;
}

/** How fresh one stream's data is: its newest bookmark over every job of the state folder. */
export interface StreamFreshness {
  readonly stream: string;
  /** The end of the last committed window (UTC, ISO). */
  readonly bookmark: string;
  /** The job whose state file holds that bookmark. */
  readonly job: string;
  /** now − bookmark. */
  readonly ageMs: number;
  /** Older than `STALE_AFTER_MS` beyond the company's end_lag: the lag is expected, not late. */
  readonly stale: boolean;
}

/**
 * Pure: per stream, the newest bookmark of all job states, newest data first within the stream list
 * order (alphabetical); `endLagMs`, the company's end_lag (`endLagOf`), is the part of each age its
 * runs leave behind by design.
 */
export function streamFreshness(jobs: readonly JobState[], now: Date, endLagMs: number): StreamFreshness[] {
  const newest = new Map<string, { bookmark: string; at: number; job: string }>();
  for (const { job, state } of jobs) {
    for (const [stream, mark] of Object.entries(state?.bookmarks ?? {})) {
      const bookmark = mark.replication_key_value;
      const at = bookmark === undefined ? NaN : Date.parse(bookmark);
      if (bookmark === undefined || Number.isNaN(at)) continue;
      const known = newest.get(stream);
      if (!known || at > known.at) newest.set(stream, { bookmark: new Date(at).toISOString().replace(/\.000Z$/, 'Z'), at, job });
    }
  }
  return [...newest.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([stream, { bookmark, at, job }]) => {
      const ageMs = now.getTime() - at;
      return { stream, bookmark, job, ageMs, stale: ageMs - endLagMs > STALE_AFTER_MS };
    });
}

/** A stream whose bookmark is older than this is told how long QBO's change data capture still reaches back to it. */
export const CDC_WARN_AFTER_MS = 20 * DAY_MS;

/**
 * Streams whose deletions QBO's change data capture (CDC) reaches for a short while more
 * (`closed: false`), or no longer (`closed: true`): a sync from their bookmarks then advises a reconcile.
 */
export interface CdcWindow {
  readonly closed: boolean;
  /** Alphabetical. */
  readonly streams: readonly string[];
  /** The oldest of their bookmarks: deletions since it are the ones at stake. */
  readonly since: string;
  /** When CDC stops reaching it: the tap's cut-off (`CDC_LOOKBACK_MS`) after `since`. */
  readonly until: string;
  /** until − now (negative once closed): `CDC_LOOKBACK_MS` − the oldest bookmark's age. */
  readonly leftMs: number;
}

/**
 * Pure: whether a job's runs read deletions from QBO's CDC (the tap's `include_deleted`, on by
 * default), as the runs themselves do: the company's own setting in the companies file when it
 * gives one (`tap:` of the company or of `defaults:`, which wins over every other source in each of
 * its runs); else what the job's newest run recorded as its settings were checked
 * (`RunRecord.readsDeletions`: from its --tap-config and environment, which a console or
 * `company list` may not share); else the tap's default. `runs` newest first, as the journal lists them.
 */
export function readsDeletionsOf(
  companyTap: Readonly<Record<string, unknown>> | undefined,
  runs: readonly Pick<RunRecord, 'job' | 'readsDeletions'>[],
): (job: string) => boolean {
  const setting = companyTap?.include_deleted;
  if (typeof setting === 'boolean') return () => setting;
  return (job) => runs.find((r) => r.job === job && r.readsDeletions !== undefined)?.readsDeletions ?? true;
}

/**
 * Pure: the streams that get their deletions from CDC and whose bookmark is older than
 * `CDC_WARN_AFTER_MS`, as at most two groups, still open first. The tap reads a stream's deletions
 * since its bookmark only while now − bookmark ≤ `CDC_LOOKBACK_MS` (the same constant, margin
 * included); past it, it warns and advises a reconcile. Streams CDC does not cover (tax_codes,
 * company_info, …), and those of a job whose runs do not read deletions (`readsDeletionsOf`), never
 * get their deletions from it, so they are never named.
 */
export function cdcWindows(streams: readonly StreamFreshness[], readsDeletions: (job: string) => boolean): CdcWindow[] {
  const old = streams.filter((s) => entityByStream(s.stream)?.cdc === true && s.ageMs > CDC_WARN_AFTER_MS && readsDeletions(s.job));
  return [false, true].flatMap((closed) => {
    const group = old.filter((s) => s.ageMs > CDC_LOOKBACK_MS === closed);
    if (group.length === 0) return [];
    const oldest = group.reduce((a, b) => (b.ageMs > a.ageMs ? b : a));
    return [
      {
        closed,
        streams: group.map((s) => s.stream).sort(),
        since: oldest.bookmark,
        until: new Date(Date.parse(oldest.bookmark) + CDC_LOOKBACK_MS).toISOString(),
        leftMs: CDC_LOOKBACK_MS - oldest.ageMs,
      },
    ];
  });
}

const daysLeft = (ms: number) => {
  const days = Math.floor(ms / DAY_MS);
  return days === 0 ? 'less than a day more' : `${plural(days, 'more day')}`;
};

/** What a person reads of a `CdcWindow`: the console's overview and `company list` say the same. */
export function cdcWindowText(w: CdcWindow): string {
  const what = `${w.streams.join(', ')}: deletions since ${utc(w.since)}`;
  return w.closed
    ? `${what} are older than QBO's 30-day change data capture (it reached them until ${utc(w.until)}): the next sync will advise a reconcile to mark the rows QBO no longer has`
    : `${what} can be read from QBO's change data capture for ${daysLeft(w.leftMs)} (until ${utc(w.until)}); after that a reconcile is needed: sync before then`;
}
