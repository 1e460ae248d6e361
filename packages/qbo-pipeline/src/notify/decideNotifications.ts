import { plural } from 'singer-kit';
import type { Attention, NotifiedKind } from '../console/views/overviewView.js';
import { utc } from '../formatTime.js';

/**
 * What a notification is about: an overview item that came up, a failing job that recovered, what
 * already needed a person when notifications were turned on (`summary`), a `notify test`.
 */
type NotifyKind = NotifiedKind | 'recovered' | 'summary' | 'test';

/** One notification: what the webhook receives (`webhookBody`), kept in the outbox until it is delivered. */
export interface NotifyEvent {
  readonly kind: NotifyKind;
  readonly level: 'ok' | 'warn' | 'error';
  readonly company: string;
  readonly job?: string;
  readonly runId?: string;
  /** One line a person reads: the console overview's own text. */
  readonly reason: string;
  /** The command the item asks to run (a reconcile), shown whole after the text, as the overview does. */
  readonly command?: string;
  /** The console page that says more (`/runs/<id>`). */
  readonly href?: string;
  /** When it was decided. */
  readonly at: string;
}

/** An item already notified, per company and `Attention.about.key`. */
interface Sent {
  readonly kind: NotifiedKind;
  readonly job?: string;
  readonly at: string;
}
export type SentState = Readonly<Record<string, Readonly<Record<string, Sent>>>>;

/** One company as the overview sees it now. */
export interface CompanyLook {
  readonly company: string;
  readonly attention: readonly Attention[];
  /** The newest run of each job (the journal lists newest first). */
  readonly runs: ReadonlyArray<{ readonly id: string; readonly job: string; readonly status: string; readonly startedAt?: string }>;
}

/**
 * Pure: what to notify now, and what is then notified. Each overview item with an `about` is
 * sent once, when it comes up, and forgotten when it goes (a token that crosses its next
 * threshold, a new reconcile or a new overdue trigger is a new item). A failing job is one item
 * however many of its runs fail (`run-failed <job>`, as the overview says only its newest run):
 * it is forgotten only when the job's newest run succeeded, with one `recovered` notification —
 * a run of it going on, or gone from the journal, keeps the streak. Companies not looked at now
 * (their state could not be read, or they left the file) keep what was sent.
 *
 * `turnedOnAt` is given at the first look ever (nothing was sent yet): as alerting tools do, only
 * what changes from then on is told one by one. What already needed a person before then (a run
 * that started earlier, a token or an overdue trigger already there) is one `summary` message
 * listing it all, not a flood of old items.
 */
export function decideNotifications(sent: SentState, looks: readonly CompanyLook[], now: Date, turnedOnAt?: Date): { events: NotifyEvent[]; sent: SentState } {
  const at = now.toISOString();
  const events: NotifyEvent[] = [];
  const older: Array<{ readonly company: string; readonly item: Attention }> = [];
  const olderThanTurnOn = (look: CompanyLook, runId: string | undefined) => {
    if (turnedOnAt === undefined) return false;
    const startedAt = look.runs.find((r) => r.id === runId)?.startedAt;
    return startedAt === undefined || Date.parse(startedAt) < turnedOnAt.getTime();
  };
  const next: Record<string, Readonly<Record<string, Sent>>> = { ...sent };
  for (const look of looks) {
    const before = sent[look.company] ?? {};
    const after: Record<string, Sent> = {};
    const current = new Map(look.attention.flatMap((a) => (a.about ? [[a.about.key, a] as const] : [])));
    for (const [key, item] of current) {
      const about = item.about!;
      // A rejected token told by the run it failed: while a run of the job goes on, the token's own item is no news.
      if (about.covers !== undefined) after[about.covers] = before[about.covers] ?? { kind: 'token', at };
      after[key] = before[key] ?? { kind: about.kind, ...(about.job !== undefined ? { job: about.job } : {}), at };
      if (before[key]) continue;
      if (olderThanTurnOn(look, about.runId)) {
        older.push({ company: look.company, item });
        continue;
      }
      events.push({
        kind: about.kind,
        level: item.level,
        company: look.company,
        ...(about.job !== undefined ? { job: about.job } : {}),
        ...(about.runId !== undefined ? { runId: about.runId } : {}),
        reason: item.text,
        ...(item.command !== undefined ? { command: item.command } : {}),
        ...(item.href !== undefined ? { href: item.href } : {}),
        at,
      });
    }
    for (const [key, was] of Object.entries(before)) {
      if (current.has(key) || was.kind !== 'run-failed' || was.job === undefined) continue;
      const newest = look.runs.find((r) => r.job === was.job);
      if (newest?.status !== 'succeeded') {
        after[key] = was;
        continue;
      }
      events.push({
        kind: 'recovered',
        level: 'ok',
        company: look.company,
        job: was.job,
        runId: newest.id,
        reason: `job ${was.job} recovered: run ${newest.id} succeeded (its failure was notified at ${utc(was.at)})`,
        href: `/runs/${newest.id}`,
        at,
      });
    }
    next[look.company] = after;
  }
  if (older.length > 0)
    events.unshift({
      kind: 'summary',
      level: older.some((o) => o.item.level === 'error') ? 'error' : 'warn',
      company: [...new Set(older.map((o) => o.company))].join(', '),
      reason: `notifications are on; ${plural(older.length, 'item')} already needed you before then (the console's overview keeps them; from now on each new one is sent as it comes up):${older.map((o) => `\n- ${o.company}: ${o.item.text}${o.item.command !== undefined ? `: ${o.item.command}` : ''}`).join('')}`,
      href: '/',
      at,
    });
  return { events, sent: next };
}
