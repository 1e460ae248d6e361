import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { diskFullText, writeFileAtomic, type Logger } from 'singer-kit';
import { loadCompanies } from '../companies/loadCompanies.js';
import { jobLockFile, lockStateFile } from '../jobLock.js';
import { ConsoleContext } from '../console/ConsoleContext.js';
import { companyOverview } from '../console/pages.js';
import { attentionOf } from '../console/views/overviewView.js';
import { decideNotifications, type CompanyLook, type NotifyEvent, type SentState } from './decideNotifications.js';
import { NOTIFY_CHANNELS, NOTIFY_EVERY_MS, notifySettings, type NotifyChannel, type NotifySettings } from './notifySettings.js';
import { postWebhook, webhookBody } from './postWebhook.js';
import { runNotifyCommand } from './runNotifyCommand.js';

/** Undelivered notifications kept at most (the oldest go first): a receiver down for weeks does not grow the file forever. */
const OUTBOX_LIMIT = 200;

interface Queued {
  readonly event: NotifyEvent;
  /** The channels it has not reached yet (the webhook may have taken it while the command failed). */
  readonly pending: readonly NotifyChannel[];
  /** The channels whose failed delivery of it was said (once: the next passes try again quietly). */
  readonly warned: readonly NotifyChannel[];
}

/**
 * An outbox entry as stored: files of versions before the command channel have no `pending` (it
 * waits for every channel: it reached none) and `warned: true` (said for the webhook).
 */
interface StoredQueued {
  readonly event: NotifyEvent;
  readonly pending?: readonly NotifyChannel[];
  readonly warned?: boolean | readonly NotifyChannel[];
}

/** `<state-dir>/notify/notifications.json`: what was notified, and what waits to be delivered. */
interface NotifyState {
  readonly sent: SentState;
  readonly outbox: readonly Queued[];
  /** No file (notifications just turned on, or the file was deleted or unreadable): nothing was sent yet. */
  readonly first?: true;
  /** Written by an earlier version (no per-channel `pending`): written again in this shape. */
  readonly reshaped?: true;
}

/**
 * The scheduler's notifications: at each `check`, the console's overview items of every company
 * (`attentionOf`: the console and the notifications never disagree) are compared with those already
 * sent (`decideNotifications`); what is new goes to the outbox, which is written (atomically) before
 * anything is posted, so a restart neither sends an item again nor loses one (one the disk refuses is kept in memory instead: `#write`). A look holds the lock
 * beside the file from its read to its last post, so two schedulers of one state folder send once. A delivery that fails
 * is one WARN line naming the notification, and waits for the next check. Nothing here ever fails a
 * run or a pass: a check that cannot read a company's state skips it until it can.
 */
export class Notifier {
  readonly #settings: NotifySettings;
  readonly #context: ConsoleContext;
  readonly #logger: Logger;
  readonly #file: string;
  #checking: Promise<void> = Promise.resolve();
  #queued = false;
  /**
   * After a channel's delivery failed, the checks before then (a minute, NOTIFY_EVERY_MS, whatever
   * `--notify-interval` says) only queue for it (a run's end does not wait on a dead webhook again).
   */
  readonly #quietUntil = new Map<NotifyChannel, number>();
  readonly #channels: readonly NotifyChannel[];
  #problem: string | undefined;
  /** When this scheduler started: at the first look ever, what already needed a person before then is one summary. */
  readonly #startedAt: Date;
  /**
   * What the notifications file should say while it cannot be written (a full disk), and the file's
   * text it was meant to replace: the next looks go on from it, not from the file left behind, so a
   * notification delivered meanwhile is not sent again at every look. A file changed since (another
   * scheduler wrote it once there was room) is read instead.
   */
  #unwritten: { readonly basis: string | undefined; readonly state: NotifyState } | undefined;

  /**
   * The notifier of a scheduler (or `notify test`) over a state folder and, if given, a companies
   * file, or undefined when no webhook is configured (`notifySettings`; a bad one is a UsageError).
   */
  static configured(options: {
    readonly stateDir: string;
    readonly companiesFile: string | undefined;
    readonly webhookFile: string | undefined;
    readonly command: string | undefined;
    readonly targetConfig: string | undefined;
    readonly env: NodeJS.ProcessEnv;
    readonly logger: Logger;
  }): Notifier | undefined {
    // As given, so its errors name it as the other commands do; loadCompanies resolves it to read it.
    const { companiesFile } = options;
    const settings = notifySettings({
      webhookFile: options.webhookFile,
      command: options.command,
      companies: companiesFile === undefined ? undefined : loadCompanies(companiesFile),
      env: options.env,
    });
    if (!settings) return undefined;
    const context = new ConsoleContext({
      stateDir: options.stateDir,
      env: options.env,
      ...(companiesFile !== undefined ? { companiesFile } : {}),
      ...(options.targetConfig !== undefined ? { targetConfig: options.targetConfig } : {}),
    });
    return new Notifier(settings, context, options.logger);
  }

  constructor(settings: NotifySettings, context: ConsoleContext, logger: Logger) {
    this.#settings = settings;
    this.#context = context;
    this.#logger = logger;
    this.#file = path.join(context.stateDir, 'notify', 'notifications.json');
    this.#channels = NOTIFY_CHANNELS.filter((channel) => settings[channel] !== undefined);
    this.#startedAt = context.now();
  }

  /** Looks now, after the check going on (one waiting check stands for any number asked meanwhile). */
  check(): Promise<void> {
    if (this.#queued) return this.#checking;
    this.#queued = true;
    this.#checking = this.#checking.then(async () => {
      this.#queued = false;
      await this.#check().then(
        () => (this.#problem = undefined),
        (error: unknown) => {
          // Said once while it lasts (a companies file broken by an edit is also said by the scheduler).
          const problem = `notifications: could not look at what needs a person: ${(error as Error).message}`;
          if (problem !== this.#problem) this.#logger.warn(problem);
          this.#problem = problem;
        },
      );
    });
    return this.#checking;
  }

  /**
   * A check every `everyMs` until the signal aborts, then waits for the one going on. The first
   * comes after `everyMs`, not at start: by then the scheduler's first pass has started what was
   * due while it was down, which is not overdue (each run's end is a check anyway).
   */
  async watch(everyMs: number, signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      await sleep(everyMs, undefined, signal ? { signal } : {}).catch(() => undefined);
      if (signal?.aborted) break;
      await this.check();
    }
    await this.#checking;
  }

  /** `notify test`: one message, now, to each channel; what each did (`problem` undefined: delivered). */
  async sendTest(): Promise<Array<{ readonly to: string; readonly problem: string | undefined }>> {
    const event: NotifyEvent = {
      kind: 'test',
      level: 'ok',
      company: (await this.#context.companies()).map((c) => c.name).join(', '),
      reason:
        'test notification from qbo-pipeline notify test: the scheduler posts here when a run fails (and when its job recovers), a refresh token needs a reconnect or nears its expiry, a reconcile is advised, or a due run has not started',
      href: '/',
      at: new Date().toISOString(),
    };
    const results = [];
    for (const channel of this.#channels) results.push({ to: this.#to(channel), problem: await this.#deliver(channel, event) });
    return results;
  }

  /** `the webhook (notify.webhook_url_file …)`, `the command (notify.command msmtp)`: never the URL. */
  #to(channel: NotifyChannel): string {
    return `the ${channel} (${this.#settings[channel]!.from})`;
  }

  #deliver(channel: NotifyChannel, event: NotifyEvent): Promise<string | undefined> {
    const body = webhookBody(event, this.#settings.consoleUrl);
    return channel === 'webhook' ? postWebhook(this.#settings.webhook!.url, body) : runNotifyCommand(this.#settings.command!, body, this.#logger);
  }

  /**
   * One look, under the lock beside the notifications file: two schedulers over one state folder
   * (a compose service and a `scheduler --once` from cron, two hosts on a shared volume) would
   * otherwise both decide a new item, or both post the same outbox entry, and the people would get
   * it twice. The posts happen inside the lock for that reason; it is refreshed while held, so a
   * webhook taking its 5 s × 3 tries per message never lets it go stale, and one left by a killed
   * scheduler is taken over after DEFAULT_LOCK_STALE_MS. A look that finds it held waits for
   * nothing: the holder is sending, and this scheduler's next look sends whatever is left.
   */
  async #check(): Promise<void> {
    await mkdir(path.dirname(this.#file), { recursive: true });
    const lockFile = jobLockFile(this.#file);
    const release = await lockStateFile(this.#file, {
      onCompromised: (error) =>
        this.#logger.warn(`notifications: the lock ${lockFile} was lost (${error.message}); another scheduler may send what this one sends`),
    });
    if (!release) {
      this.#logger.info(
        `notifications: another scheduler of this state folder is sending them now (${lockFile} is held); this look is skipped, the next one sends what is left`,
      );
      return;
    }
    try {
      await this.#lookAndSend();
    } finally {
      // A lock lost while held was said by onCompromised; its release has nothing left to free.
      await release().catch(() => undefined);
    }
  }

  async #lookAndSend(): Promise<void> {
    const now = this.#context.now();
    const looks: CompanyLook[] = [];
    for (const company of await this.#context.companies()) {
      // A company whose state cannot be read is looked at again next time; the console says why.
      const overview = await companyOverview(company, this.#context.options, now).catch(() => undefined);
      if (overview) looks.push({ company: company.name, attention: attentionOf(overview, now), runs: overview.runs });
    }
    const text = await this.#readText();
    const state = this.#unwritten !== undefined && this.#unwritten.basis === text ? this.#unwritten.state : this.#parse(text);
    const decided = decideNotifications(state.sent, looks, now, state.first ? this.#startedAt : undefined);
    let outbox: Queued[] = [...state.outbox, ...decided.events.map((event) => ({ event, pending: this.#channels, warned: [] }))];
    if (outbox.length > OUTBOX_LIMIT) {
      this.#logger.warn(
        `notifications: ${outbox.length - OUTBOX_LIMIT} undelivered notifications dropped (the oldest; ${OUTBOX_LIMIT} wait): is ${this.#channels.map((c) => this.#to(c)).join(' or ')} working?`,
      );
      outbox = outbox.slice(-OUTBOX_LIMIT);
    }
    const write = () => this.#write({ sent: decided.sent, outbox: outbox.filter((q) => q.pending.length > 0) }, text);
    if (decided.events.length > 0 || JSON.stringify(decided.sent) !== JSON.stringify(state.sent) || state.reshaped || this.#unwritten) await write();
    // Each channel in turn, its own deliveries: a webhook that took a message is not posted it again because the command failed.
    for (const channel of this.#channels) {
      if (Date.now() < (this.#quietUntil.get(channel) ?? 0)) continue;
      for (const [i, queued] of outbox.entries()) {
        if (!queued.pending.includes(channel)) continue;
        const problem = await this.#deliver(channel, queued.event);
        if (problem !== undefined) {
          this.#quietUntil.set(channel, Date.now() + NOTIFY_EVERY_MS);
          if (!queued.warned.includes(channel)) {
            const more = outbox.slice(i + 1).filter((q) => q.pending.includes(channel)).length;
            this.#logger.warn(
              `notification ${describe(queued.event)} not delivered to ${this.#to(channel)}: ${problem}; ${more > 0 ? `it and ${more} more wait` : 'it waits'} for the next check`,
            );
            outbox[i] = { ...queued, warned: [...queued.warned, channel] };
            await write();
          }
          break;
        }
        if (queued.warned.includes(channel)) this.#logger.info(`notification ${describe(queued.event)} delivered to ${this.#to(channel)}`);
        outbox[i] = { ...queued, pending: queued.pending.filter((c) => c !== channel), warned: queued.warned.filter((c) => c !== channel) };
        await write();
      }
    }
  }

  /** The notifications file's text; undefined when there is none. */
  async #readText(): Promise<string | undefined> {
    return readFile(this.#file, 'utf8').catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    });
  }

  #parse(text: string | undefined): NotifyState {
    if (text === undefined) return { sent: {}, outbox: [], first: true };
    try {
      const state = JSON.parse(text) as { sent?: SentState; outbox?: readonly StoredQueued[] };
      const outbox = (state.outbox ?? []).map((q) => this.#stored(q)).filter((q) => q.pending.length > 0);
      return { sent: state.sent ?? {}, outbox, ...(state.outbox?.some((q) => q.pending === undefined) ? { reshaped: true as const } : {}) };
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      this.#logger.warn(
        `notifications: ${this.#file} cannot be read (${error.message}); starting over: what needs a person now is notified again, in one message`,
      );
      return { sent: {}, outbox: [], first: true };
    }
  }

  /** A stored entry, for the channels configured now (one no longer configured is not waited for). */
  #stored(stored: StoredQueued): Queued {
    const warned = stored.warned === true ? (['webhook'] as const) : stored.warned === false || stored.warned === undefined ? [] : stored.warned;
    return {
      event: stored.event,
      pending: (stored.pending ?? this.#channels).filter((c) => this.#channels.includes(c)),
      warned: warned.filter((c) => this.#channels.includes(c)),
    };
  }

  /**
   * Writes the notifications file (over `basis`, the text this look read). One it cannot write (a
   * full disk: the night's failure may be just that) holds up no delivery: people hear of the
   * failure now, from memory, rather than once a person has made room; said once while it lasts.
   * The file then lags behind what was delivered, so a scheduler stopped before there is room
   * leaves its next look to send those once more: one duplicate, never a loss.
   */
  async #write(state: NotifyState, basis: string | undefined): Promise<void> {
    try {
      await writeFileAtomic(this.#file, JSON.stringify(state, null, 2) + '\n');
    } catch (error) {
      const dir = path.dirname(this.#file);
      if (this.#unwritten === undefined)
        this.#logger.warn(
          `notifications: cannot write ${this.#file}: ${diskFullText(error, dir) ?? `${(error as Error).message}; make ${dir} writable`}; notifications are sent all the same (those waiting are kept in memory), and the file is written at the first look once there is room (a scheduler stopped before then sends them once more)`,
        );
      this.#unwritten = { basis, state };
      return;
    }
    if (this.#unwritten !== undefined) this.#logger.info(`notifications: ${this.#file} written again: it has what was sent while it could not be`);
    this.#unwritten = undefined;
  }
}

/** `run-failed for company acme (job company, run 2025…)`: the notification, never the URL. */
function describe(event: NotifyEvent): string {
  const of = [event.job !== undefined ? `job ${event.job}` : '', event.runId !== undefined ? `run ${event.runId}` : ''].filter((s) => s !== '').join(', ');
  return `${event.kind} for company ${event.company}${of ? ` (${of})` : ''}`;
}
