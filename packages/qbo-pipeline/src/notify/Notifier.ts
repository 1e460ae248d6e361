import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunError, writeFileAtomic, type Logger } from 'singer-kit';
import { loadCompanies } from '../companies/loadCompanies.js';
import { jobLockFile, lockStateFile } from '../jobLock.js';
import { ConsoleContext } from '../console/ConsoleContext.js';
import { companyOverview } from '../console/pages.js';
import { attentionOf } from '../console/views/overviewView.js';
import { decideNotifications, type CompanyLook, type NotifyEvent, type SentState } from './decideNotifications.js';
import { notifySettings, type NotifySettings } from './notifySettings.js';
import { postWebhook, webhookBody } from './postWebhook.js';

/** How often the scheduler looks for what needs a person besides after each run (an overdue slot, a token's days). */
export const NOTIFY_EVERY_MS = 60_000;
/** Undelivered notifications kept at most (the oldest go first): a receiver down for weeks does not grow the file forever. */
const OUTBOX_LIMIT = 200;

interface Queued {
  readonly event: NotifyEvent;
  /** Its first failed delivery was said (once: the next passes try again quietly). */
  readonly warned?: boolean;
}

/** `<state-dir>/notify/notifications.json`: what was notified, and what waits to be delivered. */
interface NotifyState {
  readonly sent: SentState;
  readonly outbox: readonly Queued[];
  /** No file (notifications just turned on, or the file was deleted or unreadable): nothing was sent yet. */
  readonly first?: true;
}

/**
 * The scheduler's notifications: at each `check`, the console's overview items of every company
 * (`attentionOf`: the console and the notifications never disagree) are compared with those already
 * sent (`decideNotifications`); what is new goes to the outbox, which is written (atomically) before
 * anything is posted, so a restart neither sends an item again nor loses one. A look holds the lock
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
  /** After a delivery failed, the checks before then only queue (a run's end does not wait on a dead webhook again). */
  #quietUntil = 0;
  #problem: string | undefined;
  /** When this scheduler started: at the first look ever, what already needed a person before then is one summary. */
  readonly #startedAt: Date;

  /**
   * The notifier of a scheduler (or `notify test`) over a state folder and, if given, a companies
   * file, or undefined when no webhook is configured (`notifySettings`; a bad one is a UsageError).
   */
  static configured(options: {
    readonly stateDir: string;
    readonly companiesFile: string | undefined;
    readonly webhookFile: string | undefined;
    readonly targetConfig: string | undefined;
    readonly env: NodeJS.ProcessEnv;
    readonly logger: Logger;
  }): Notifier | undefined {
    const companiesFile = options.companiesFile === undefined ? undefined : path.resolve(options.companiesFile);
    const settings = notifySettings({
      webhookFile: options.webhookFile,
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

  /** `notify test`: one message, now; a delivery that fails is a RunError naming where the URL came from. */
  async sendTest(): Promise<void> {
    const event: NotifyEvent = {
      kind: 'test',
      level: 'ok',
      company: (await this.#context.companies()).map((c) => c.name).join(', '),
      reason:
        'test notification from qbo-pipeline notify test: the scheduler posts here when a run fails (and when its job recovers), a refresh token needs a reconnect or nears its expiry, a reconcile is advised, or a due run has not started',
      href: '/',
      at: new Date().toISOString(),
    };
    const problem = await postWebhook(this.#settings.webhook, webhookBody(event, this.#settings.consoleUrl));
    if (problem !== undefined) throw new RunError(`notify test: the webhook (${this.#settings.from}) was not reached: ${problem}`);
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
      const overview = await companyOverview(company, now).catch(() => undefined);
      if (overview) looks.push({ company: company.name, attention: attentionOf(overview, now), runs: overview.runs });
    }
    const state = await this.#read();
    const decided = decideNotifications(state.sent, looks, now, state.first ? this.#startedAt : undefined);
    let outbox = [...state.outbox, ...decided.events.map((event) => ({ event }))];
    if (outbox.length > OUTBOX_LIMIT) {
      this.#logger.warn(
        `notifications: ${outbox.length - OUTBOX_LIMIT} undelivered notifications dropped (the oldest; ${OUTBOX_LIMIT} wait): is the webhook (${this.#settings.from}) reachable?`,
      );
      outbox = outbox.slice(-OUTBOX_LIMIT);
    }
    if (decided.events.length > 0 || JSON.stringify(decided.sent) !== JSON.stringify(state.sent)) await this.#write({ sent: decided.sent, outbox });
    if (Date.now() < this.#quietUntil) return;
    while (outbox.length > 0) {
      const [head, ...rest] = outbox as [Queued, ...Queued[]];
      const problem = await postWebhook(this.#settings.webhook, webhookBody(head.event, this.#settings.consoleUrl));
      if (problem !== undefined) {
        this.#quietUntil = Date.now() + NOTIFY_EVERY_MS;
        if (!head.warned) {
          this.#logger.warn(
            `notification ${describe(head.event)} not delivered to the webhook (${this.#settings.from}): ${problem}; ${rest.length > 0 ? `it and ${rest.length} more wait` : 'it waits'} for the next check`,
          );
          outbox = [{ ...head, warned: true }, ...rest];
          await this.#write({ sent: decided.sent, outbox });
        }
        return;
      }
      if (head.warned) this.#logger.info(`notification ${describe(head.event)} delivered`);
      outbox = rest;
      await this.#write({ sent: decided.sent, outbox });
    }
  }

  async #read(): Promise<NotifyState> {
    try {
      const state = JSON.parse(await readFile(this.#file, 'utf8')) as Partial<NotifyState>;
      return { sent: state.sent ?? {}, outbox: state.outbox ?? [] };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { sent: {}, outbox: [], first: true };
      if (!(error instanceof SyntaxError)) throw error;
      this.#logger.warn(
        `notifications: ${this.#file} cannot be read (${error.message}); starting over: what needs a person now is notified again, in one message`,
      );
      return { sent: {}, outbox: [], first: true };
    }
  }

  async #write(state: NotifyState): Promise<void> {
    await writeFileAtomic(this.#file, JSON.stringify(state, null, 2) + '\n');
  }
}

/** `run-failed for company acme (job company, run 2025…)`: the notification, never the URL. */
function describe(event: NotifyEvent): string {
  const of = [event.job !== undefined ? `job ${event.job}` : '', event.runId !== undefined ? `run ${event.runId}` : ''].filter((s) => s !== '').join(', ');
  return `${event.kind} for company ${event.company}${of ? ` (${of})` : ''}`;
}
