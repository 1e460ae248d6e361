import { Rng } from './rng.js';

const FAULT_KINDS = ['429', '500', '502', '503', '504', 'reset', 'stall', '200-truncated', '200-html', '200-empty', '200-json'] as const;
/**
 * `429`: QBO's throttling answer (as when the realm's budget is spent: a storm of them, at will);
 * `500`…`504`: that status; `reset`: the connection is destroyed; `stall`: no answer until the
 * client gives up. The `200-…` faults answer HTTP 200 with a body that is not what was asked for,
 * as a proxy or a failing QBO node can: `200-truncated` the real answer cut in half (for a token
 * request the refresh token has rotated all the same), `200-html` an HTML page, `200-empty` no
 * body, `200-json` JSON of the wrong shape (no QueryResponse, CDCResponse or access_token).
 */
export type FaultKind = (typeof FAULT_KINDS)[number];

const REQUEST_KINDS = ['query', 'count', 'cdc', 'batch', 'token', 'other'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/**
 * One injection rule. It watches the requests of `kinds` (all when absent), counting them from
 * 1, and fires on: the `nth` of them (a list), the `next` N of them, every one `from` the Nth
 * on, or each with `probability`.
 */
export interface FaultRule {
  readonly fault: FaultKind;
  readonly kinds?: readonly RequestKind[];
  /** Only requests of these companies (realm ids; a token request is its refresh token's company); all when absent. */
  readonly realms?: readonly string[];
  readonly nth?: readonly number[];
  readonly next?: number;
  /** Every matching request from this one on (a QBO that stops answering for good, from a known point). */
  readonly from?: number;
  readonly probability?: number;
}

export interface FaultPlan {
  /** Seeds the probability draws; the emulator's seed by default. */
  readonly seed?: number;
  readonly rules: readonly FaultRule[];
}

/** Checks a plan that came from outside (admin API, CLI); throws naming the bad field. */
export function validateFaultPlan(value: unknown): FaultPlan {
  const plan = value as FaultPlan;
  if (!plan || typeof plan !== 'object' || !Array.isArray(plan.rules)) throw new TypeError('a fault plan is {"rules":[…]}');
  // Array.isArray widens the rules to any[]; read them back as what they must be
  const rules: readonly FaultRule[] = plan.rules;
  rules.forEach((rule, n) => {
    const where = `fault rule ${n + 1}`;
    if (!(FAULT_KINDS as readonly string[]).includes(rule.fault)) throw new TypeError(`${where}: fault must be one of ${FAULT_KINDS.join(', ')}`);
    for (const kind of rule.kinds ?? []) {
      if (!(REQUEST_KINDS as readonly string[]).includes(kind)) throw new TypeError(`${where}: kinds must be among ${REQUEST_KINDS.join(', ')}`);
    }
    if (rule.realms !== undefined && !(Array.isArray(rule.realms) && (rule.realms as readonly unknown[]).every((r) => typeof r === 'string' && r !== '')))
      throw new TypeError(`${where}: realms must be a list of realm ids`);
    if (rule.nth === undefined && rule.next === undefined && rule.from === undefined && rule.probability === undefined)
      throw new TypeError(`${where}: give nth, next, from or probability`);
    if (rule.from !== undefined && !(Number.isInteger(rule.from) && rule.from >= 1)) throw new TypeError(`${where}: from must be a whole number from 1`);
    if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1)) throw new TypeError(`${where}: probability must be in [0, 1]`);
  });
  return plan;
}

/** Decides, request by request, which fault (if any) to inject; deterministic for a seed. */
export class FaultInjector {
  readonly #rules: ReadonlyArray<{ rule: FaultRule; seen: number }>;
  readonly #rng: Rng;

  constructor(plan: FaultPlan, defaultSeed: number) {
    this.#rules = validateFaultPlan(plan).rules.map((rule) => ({ rule, seen: 0 }));
    this.#rng = Rng.of(plan.seed ?? defaultSeed, 'faults');
  }

  decide(kind: RequestKind, realmId?: string): FaultKind | undefined {
    let chosen: FaultKind | undefined;
    for (const state of this.#rules) {
      const { rule } = state;
      if (rule.kinds && !rule.kinds.includes(kind)) continue;
      if (rule.realms && (realmId === undefined || !rule.realms.includes(realmId))) continue;
      const n = ++state.seen;
      const fires =
        (rule.nth?.includes(n) ?? false) ||
        (rule.next !== undefined && n <= rule.next) ||
        (rule.from !== undefined && n >= rule.from) ||
        (rule.probability !== undefined && this.#rng.next() < rule.probability);
      if (fires && chosen === undefined) chosen = rule.fault;
    }
    return chosen;
  }
}
