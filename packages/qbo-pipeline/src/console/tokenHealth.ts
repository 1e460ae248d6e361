import path from 'node:path';
import { continuesChain, fingerprint, HARD_EXPIRY_WARNING_MS, TokenStore, type StoredTokens } from 'tap-quickbooks';
import { readdirIfExists } from '../ifExists.js';
import { utc } from '../formatTime.js';
import { TAP_REFRESH_TOKEN_SETTING, type ConfiguredRefreshToken } from './configuredRefreshToken.js';

const DAY_MS = 86_400_000;
/** Under a week to a hard stop is an emergency; under HARD_EXPIRY_WARNING_MS (30 days, as the tap warns) a warning. */
const TOKEN_CRITICAL_MS = 7 * DAY_MS;

type HealthLevel = 'ok' | 'warn' | 'error';

/** What the console says about one token store: dates and days only, never a token. */
export interface TokenHealth {
  readonly realmId: string;
  readonly file: string;
  /** When the tap last refreshed (and saved the rotated refresh token). */
  readonly lastRefreshAt: string | undefined;
  readonly accessTokenExpiresAt: string | undefined;
  /** The rolling expiry (about 100 days after the last refresh). */
  readonly refreshTokenExpiresAt: string | undefined;
  /** Intuit's 5-year cap from the original consent: no refresh moves it. */
  readonly hardExpiresAt: string | undefined;
  readonly daysToHardExpiry: number | undefined;
  readonly daysToRefreshExpiry: number | undefined;
  readonly level: HealthLevel;
  /** One line a person reads: what is wrong, and what to do. */
  readonly advice: string;
  /** When QuickBooks rejected the refresh token (invalid_grant), and the intuit_tid of that answer. */
  readonly rejected?: { readonly at: string; readonly tid: string | undefined };
  /**
   * A refresh token is configured that the stored chain did not start from (the user reconnected
   * the app): the next run starts a new chain from it, and the stored dates then no longer count.
   */
  readonly newToken?: { readonly savedAt: string | undefined };
}

type Refusal = { readonly at: string; readonly tid: string | undefined };
const newest = (a: Refusal | undefined, b: Refusal | undefined): Refusal | undefined =>
  a === undefined || (b !== undefined && Date.parse(b.at) > Date.parse(a.at)) ? b : a;
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const daysLeft = (ms: number | undefined, now: Date) => (ms === undefined ? undefined : Math.floor((ms - now.getTime()) / DAY_MS));

/**
 * Pure: the health of stored tokens at `now`. The soonest of the two refresh-token expiries decides.
 * `configured` says where a person puts a new refresh token (the advice after a reconnect) and, when
 * known, the one configured for this realm: a new one there is said to be waiting for the next run,
 * not checked with QuickBooks (a refresh would rotate it, and costs a request the user did not ask for).
 */
export function tokenHealth(
  realmId: string,
  file: string,
  stored: StoredTokens,
  now: Date,
  configured: ConfiguredRefreshToken = { where: TAP_REFRESH_TOKEN_SETTING },
): TokenHealth {
  const newTokenGoes = configured.where;
  const expiries = [stored.refresh_token_hard_expires_at, stored.refresh_token_expires_at].filter((ms): ms is number => ms !== undefined);
  const soonest = expiries.length === 0 ? undefined : Math.min(...expiries);
  const left = soonest === undefined ? undefined : soonest - now.getTime();
  const reconnect = `reconnect the app to company ${realmId} and put the new refresh token in ${newTokenGoes}`;
  // Only a new consent moves the 5-year limit; the rolling expiry moves with every refresh, so a run renews it.
  const hardFirst = soonest !== undefined && soonest === stored.refresh_token_hard_expires_at;
  const why = hardFirst ? "QBO's 5-year limit" : 'unused for 100 days, it lapses';
  const fix = hardFirst ? reconnect : 'run a sync (any run of the tap renews it)';
  let level: HealthLevel = 'ok';
  let advice = 'refresh token valid';
  const token = configured.realmId === realmId ? configured.token?.reveal() : undefined;
  // The configured token is a new one a run already tried, and QuickBooks refused: rejected, not waiting.
  const triedNew = token !== undefined && stored.new_token_rejected?.fingerprint === fingerprint(token) ? stored.new_token_rejected : undefined;
  const chainRejected =
    stored.refresh_token_rejected_at !== undefined ? { at: stored.refresh_token_rejected_at, tid: stored.refresh_token_rejected_tid } : undefined;
  const refused = triedNew ?? chainRejected;
  if (refused !== undefined) {
    level = 'error';
    advice = `QuickBooks rejected the refresh token at ${utc(refused.at)} (invalid_grant, intuit_tid ${refused.tid ?? 'none'}): ${reconnect}`;
  } else if (left !== undefined && left <= 0) {
    level = 'error';
    advice = `the refresh token has expired: ${reconnect}`;
  } else if (left !== undefined && left < TOKEN_CRITICAL_MS) {
    level = 'error';
    advice = `the refresh token expires in ${Math.floor(left / DAY_MS)} days (${why}): ${fix}`;
  } else if (left !== undefined && left < HARD_EXPIRY_WARNING_MS) {
    level = 'warn';
    advice = `the refresh token expires in ${Math.floor(left / DAY_MS)} days (${why}): ${fix} before then`;
  } else if (stored.refresh_token_hard_expires_at === undefined) {
    advice = 'refresh token valid; QBO has not said when its 5-year hard expiry is';
  }
  const isNew = token !== undefined && triedNew === undefined && !continuesChain(stored, token);
  // Beside a new token waiting, the refusal the last run met: the chain's, or that of a new token tried before this one.
  const rejected = isNew ? newest(chainRejected, stored.new_token_rejected) : refused;
  if (isNew) {
    // Unchecked until a run uses it: amber, not red, and not green.
    level = 'warn';
    const saved = `a new refresh token was saved in ${newTokenGoes}${configured.savedAt ? ` at ${utc(configured.savedAt)}` : ''}`;
    advice =
      rejected !== undefined
        ? `QuickBooks rejected the refresh token at ${utc(rejected.at)}; ${saved}, not used yet: the next run starts from it`
        : `${saved}, not used yet: the next run starts from it (the dates here are the stored token's)`;
  }
  return {
    realmId,
    file,
    lastRefreshAt: stored.updated_at,
    accessTokenExpiresAt: iso(stored.access_token_expires_at),
    refreshTokenExpiresAt: iso(stored.refresh_token_expires_at),
    hardExpiresAt: iso(stored.refresh_token_hard_expires_at),
    daysToHardExpiry: daysLeft(stored.refresh_token_hard_expires_at, now),
    daysToRefreshExpiry: daysLeft(stored.refresh_token_expires_at, now),
    level,
    advice,
    ...(rejected !== undefined ? { rejected: { at: rejected.at, tid: rejected.tid } } : {}),
    ...(isNew ? { newToken: { savedAt: configured.savedAt } } : {}),
  };
}

/** A token store the console could not read: the problem, without its content. */
export interface TokenProblem {
  readonly realmId: string;
  readonly file: string;
  readonly problem: string;
}

/**
 * The health of every token store in a folder (`<state-dir>/tokens/<realm_id>.json`, the tap's
 * default). Read through the tap's own TokenStore, which registers each token for redaction.
 */
export async function readTokenHealth(dir: string, now: Date, configured?: ConfiguredRefreshToken): Promise<Array<TokenHealth | TokenProblem>> {
  const names = await readdirIfExists(dir);
  const realms = names
    .map((n) => /^(\w[\w-]*)\.json$/.exec(n)?.[1])
    .filter((r): r is string => r !== undefined)
    .sort();
  return Promise.all(
    realms.map(async (realmId) => {
      const file = path.join(dir, `${realmId}.json`);
      try {
        const stored = await new TokenStore(file).read();
        return stored ? tokenHealth(realmId, file, stored, now, configured) : { realmId, file, problem: 'gone' };
      } catch (error) {
        return { realmId, file, problem: (error as Error).message };
      }
    }),
  );
}
