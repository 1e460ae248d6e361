import { CompanyStore, type TruthRow } from './CompanyStore.js';
import { DataApi } from './DataApi.js';
import type { EmulatedCompany, EmulatedCompanyOptions, EmulatorOptions } from './Emulator.js';
import { RequestBudget } from './RequestBudget.js';
import { TokenAuthority } from './TokenAuthority.js';

const DEFAULT_REALM_ID = '9341453050000000';

/** What one realm needs: its own options, filled in from the emulator's. */
export interface RealmSetup {
  readonly realmId: string;
  readonly seed: number;
  readonly refreshToken: string;
  readonly company: EmulatedCompanyOptions;
  readonly emulator: EmulatorOptions;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Epoch milliseconds, the emulator's clock. */
  readonly nowMs: () => number;
  /** Seconds after its LastUpdatedTime before a record shows in queries (the emulator's, as set now). */
  readonly visibilityDelaySeconds: () => number;
}

/**
 * The companies an emulator serves, each with its realm id, seed and first refresh token
 * decided: the options' `companies`, or one company from the options themselves.
 */
export function companySetups(options: EmulatorOptions): Array<Pick<RealmSetup, 'realmId' | 'seed' | 'refreshToken' | 'company'>> {
  const seed = options.seed ?? 42;
  const companies = options.companies ?? [{}];
  if (companies.length === 0) throw new RangeError('companies: give at least one company');
  const setups = companies.map((company, index) => {
    const companySeed = company.seed ?? seed + index;
    const realmId = company.realmId ?? (index === 0 && options.realmId ? options.realmId : String(BigInt(DEFAULT_REALM_ID) + BigInt(index)));
    const first = index === 0 ? options.refreshToken : undefined;
    return {
      realmId,
      seed: companySeed,
      refreshToken: company.refreshToken ?? first ?? `AB11emulator-refresh-token-seed-${companySeed}${index === 0 ? '' : `-realm-${realmId}`}`,
      company,
    };
  });
  for (const key of ['realmId', 'refreshToken'] as const) {
    const seen = new Set<string>();
    for (const s of setups) {
      if (seen.has(s[key]))
        throw new RangeError(
          `companies: two companies share the ${key === 'realmId' ? 'realm id' : 'refresh token'} ${key === 'realmId' ? s.realmId : '(not shown)'}`,
        );
      seen.add(s[key]);
    }
  }
  return setups;
}

/** One company of the emulator: its data (CompanyStore, DataApi), its OAuth chain and its request budget. */
export class EmulatedRealm implements EmulatedCompany {
  readonly realmId: string;
  readonly store: CompanyStore;
  readonly data: DataApi;
  readonly tokens: TokenAuthority;
  readonly budget: RequestBudget;
  readonly #nowSec: () => number;

  constructor(setup: RealmSetup) {
    const { company, emulator } = setup;
    this.realmId = setup.realmId;
    this.#nowSec = () => Math.floor(setup.nowMs() / 1000);
    const counts = company.counts ?? emulator.counts;
    const fixturesDir = company.fixturesDir ?? emulator.fixturesDir;
    this.store = new CompanyStore({
      seed: setup.seed,
      nowSec: this.#nowSec(),
      days: company.days ?? emulator.days ?? 90,
      ...(counts ? { counts } : {}),
      ...(fixturesDir ? { fixturesDir } : {}),
    });
    this.data = new DataApi(this.store, setup.nowMs, setup.visibilityDelaySeconds);
    this.tokens = new TokenAuthority({
      clientId: setup.clientId,
      clientSecret: setup.clientSecret,
      refreshToken: setup.refreshToken,
      accessTokenTtlSeconds: emulator.accessTokenTtlSeconds ?? 3600,
      rotation: emulator.rotation ?? 'every-refresh',
      ...(emulator.refreshTokenHardExpiresInSeconds === undefined ? {} : { refreshTokenHardExpiresInSeconds: emulator.refreshTokenHardExpiresInSeconds }),
      accessTokenMaxUses: emulator.accessTokenMaxUses,
      now: setup.nowMs,
    });
    this.budget = new RequestBudget(company.requestsPerMinute ?? emulator.requestsPerMinute ?? 500, company.maxInFlight ?? emulator.maxInFlight ?? 10);
  }

  currentRefreshToken(): string {
    return this.tokens.currentRefreshToken();
  }

  revokeTokens(): void {
    this.tokens.revoke();
  }

  reconnect(): string {
    return this.tokens.reconnect();
  }

  touchAfterPage({ entity, afterPage, count = 1 }: { entity: string; afterPage: number; count?: number }): void {
    this.data.touchAfterPage(entity, afterPage, count);
  }

  touch(entity: string, id: string): void {
    this.store.touch(entity, id, this.#nowSec());
  }

  create(entity: string): string {
    return this.store.create(entity, this.#nowSec());
  }

  update(entity: string, id: string, members: Readonly<Record<string, string>>): void {
    this.store.edit(entity, id, this.#nowSec(), members);
  }

  voidTransaction(entity: string, id: string): void {
    // As QBO voids: the amounts become zero, the document stays (same Id), with a note.
    const text = this.store.truthRow(entity, id);
    const zero: Record<string, string> = {};
    for (const key of ['TotalAmt', 'Balance', 'HomeTotalAmt', 'HomeBalance', 'UnappliedAmt']) if (text.includes(`"${key}":`)) zero[key] = '0';
    this.store.edit(entity, id, this.#nowSec(), { ...zero, PrivateNote: '"Voided"' });
  }

  deleteTransaction(entity: string, id: string): void {
    this.store.delete(entity, id, this.#nowSec());
  }

  truth(stream: string): TruthRow[] {
    return [...this.store.truth(stream)];
  }

  truthIterator(stream: string): IterableIterator<TruthRow> {
    return this.store.truth(stream);
  }

  expireAccessTokens(): void {
    this.tokens.expireAccessTokens();
  }

  setAccessTokenMaxUses(uses: number | undefined): void {
    this.tokens.setAccessTokenMaxUses(uses);
  }
}
