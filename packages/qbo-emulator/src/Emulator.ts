import type { FaultPlan, RequestKind } from './faults.js';
import type { TruthRow } from './CompanyStore.js';
import type { RotationMode } from './TokenAuthority.js';

/**
 * One company (realm) of a multi-company emulator. What is not given comes from the emulator's
 * options, except `realmId` (default: the default realm id + the company's index) and `seed`
 * (default: the emulator's seed + the index), so companies differ while their Ids overlap.
 */
export interface EmulatedCompanyOptions {
  realmId?: string;
  seed?: number;
  days?: number;
  counts?: Partial<Record<string, number>>;
  fixturesDir?: string;
  refreshToken?: string;
  requestsPerMinute?: number;
  maxInFlight?: number;
}

export interface EmulatorOptions {
  /** 0 = a free port; the host is always 127.0.0.1. */
  port?: number;
  /** Default 42; the same seed and options give byte-identical data. */
  seed?: number;
  /** Default '9341453050000000'. */
  realmId?: string;
  /**
   * Several companies in one process (one Intuit app connected to each): each with its own data,
   * refresh-token chain and per-realm limits; Ids overlap between them, as in QBO. Default: one
   * company from the options above.
   */
  companies?: readonly EmulatedCompanyOptions[];
  /** The company's "now" (default: the real now); data LastUpdatedTimes lie in [now - days, now). The clock runs on from it. */
  now?: Date;
  /** Default 90. */
  days?: number;
  /** Records per stream (`invoices`) or entity (`Invoice`); small defaults for every entity. */
  counts?: Partial<Record<string, number>>;
  /** Also serve the records of `<stream>[.*].json` array files in this folder (e.g. the shared fixtures). */
  fixturesDir?: string;
  clientId?: string;
  clientSecret?: string;
  refreshToken?: string;
  /** Default 3600. */
  accessTokenTtlSeconds?: number;
  /** Default 'every-refresh'. */
  rotation?: RotationMode;
  refreshTokenHardExpiresInSeconds?: number;
  /** Fault: each access token dies after N API requests made with it (401 from then on). */
  accessTokenMaxUses?: number;
  /** Per realm, sliding minute; default 500. */
  requestsPerMinute?: number;
  /** Per realm; default 10. */
  maxInFlight?: number;
  /** When set, 429 answers carry `Retry-After`. */
  retryAfterSeconds?: number;
  /** Added to every API and token response. */
  latencyMs?: number;
  /**
   * Seconds after its LastUpdatedTime before a created or changed record shows in queries and
   * COUNTs (default 0), as QBO's indexes catch up with a saved change: a run that ends its range
   * at its own start misses, for good, a record stamped just before it.
   */
  visibilityDelaySeconds?: number;
  faults?: FaultPlan;
}

export interface RequestLogEntry {
  readonly method: string;
  readonly path: string;
  /** The query string, without any credential-like parameter. */
  readonly query: string;
  /** 0 when no answer was sent (connection reset, stall). */
  readonly status: number;
  readonly durationMs: number;
  readonly kind: RequestKind;
  readonly intuitTid: string;
  /** The company of the request: the realm of its path, or for a token request its refresh token's company. */
  readonly realmId?: string;
}

export interface EmulatorStats {
  readonly requests: number;
  readonly throttled: number;
  readonly faults: Record<string, number>;
}

/** One company's data and tokens. */
export interface EmulatedCompany {
  readonly realmId: string;
  /** The refresh token that is valid right now. */
  currentRefreshToken(): string;
  /** The company disconnects the app: its refresh token and access tokens stop working (`invalid_grant`, 401). */
  revokeTokens(): void;
  /** The company connects the app again: a new refresh token chain; returns its first token. */
  reconnect(): string;
  /** After the Nth page of a query on `entity`, bump `count` (default 1) rows of that page to now: the rows behind shift forward. */
  touchAfterPage(opts: { entity: string; afterPage: number; count?: number }): void;
  /** Bumps one record's LastUpdatedTime to now and its SyncToken. */
  touch(entity: string, id: string): void;
  /** A user creates a record now: the next Id (never a deleted one's), a generated body; returns the Id. */
  create(entity: string): string;
  /**
   * A user edits a record now: each of `members` (raw JSON texts, e.g. `{"TotalAmt": "1234567.105"}`,
   * so amounts keep every digit) replaces that top-level member or is added; LastUpdatedTime and SyncToken move on.
   */
  update(entity: string, id: string, members: Readonly<Record<string, string>>): void;
  /** A user voids a transaction now: its amounts become 0 and PrivateNote "Voided"; it stays in queries with the same Id. */
  voidTransaction(entity: string, id: string): void;
  /** Hard delete: gone from queries, a CDC `Deleted` stub (name-list entities are deactivated instead). */
  deleteTransaction(entity: string, id: string): void;
  /** Every record currently served, in (LastUpdatedTime, Id) order, as exact JSON text. */
  truth(stream: string): TruthRow[];
  truthIterator(stream: string): IterableIterator<TruthRow>;
  /** Every access token issued so far stops working (401) from now on. */
  expireAccessTokens(): void;
  /** Fault: from now on each access token dies after N API requests made with it; undefined turns it off. */
  setAccessTokenMaxUses(uses: number | undefined): void;
}

/** The emulator; its company methods act on the first company (the only one unless `companies` was given). */
export interface Emulator extends EmulatedCompany {
  /** API root before `/v3`, e.g. http://127.0.0.1:PORT (the tap's `base_url`). */
  readonly baseUrl: string;
  /** The whole token endpoint URL (the tap's `token_url`). */
  readonly tokenUrl: string;
  /** One Intuit app for every company. */
  readonly clientId: string;
  readonly clientSecret: string;
  readonly companies: readonly EmulatedCompany[];
  /** A company by realm id; RangeError when there is none. */
  company(realmId: string): EmulatedCompany;
  /**
   * tap-quickbooks settings that reach the first company as it is right now (URLs, app, realm,
   * the refresh token valid now), with `extra` added: what the CLI prints and tests write as a config.
   */
  tapSettings(extra?: Record<string, unknown>): Record<string, unknown>;
  /** The companies' clock (it runs on in real time from the options' `now`). */
  now(): Date;
  /** Sets the companies' clock to `at`, from where it runs on: a test's days pass in an instant. */
  setNow(at: Date): void;
  setFaults(plan: FaultPlan): void;
  setLatency(ms: number): void;
  /** From now on, records show in queries and COUNTs only `seconds` after their LastUpdatedTime (0: at once). */
  setVisibilityDelay(seconds: number): void;
  /**
   * Holds every answer (token and data requests alike) until the returned function is called, so
   * a test can look at a run that has started but cannot have read, or committed, anything yet.
   */
  holdAnswers(): () => void;
  requestLog(): RequestLogEntry[];
  stats(): EmulatorStats;
  close(): Promise<void>;
}
