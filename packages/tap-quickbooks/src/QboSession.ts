import type { Logger } from 'singer-kit';
import { OAuthClient } from './auth/OAuthClient.js';
import { TokenStore } from './auth/TokenStore.js';
import { QboClient } from './http/QboClient.js';
import { RateBudget } from './http/RateBudget.js';
import type { RetryReason } from './http/retryPolicy.js';
import { Transport } from './http/Transport.js';
import type { TapSettings } from './settings.js';

export interface QboSessionOptions {
  readonly settings: TapSettings;
  readonly logger: Logger;
  /** Every wait (backoff, rate budget); a run that stops aborts it. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly onRetry?: (reason: RetryReason) => void;
}

/** One realm's connection to QBO: the HTTP transport, the token chain, the rate budget and the data client on top. */
export interface QboSession {
  readonly client: QboClient;
  readonly auth: OAuthClient;
  readonly budget: RateBudget;
  /** Ends kept-alive sockets (and requests still running), so the process can exit. */
  close(): void;
}

/**
 * Wires the tap's HTTP stack from its settings, the one way: the tap's own run and any other
 * program that talks to QBO for the same realm (the runner's `reconcile`) share the token store,
 * its lock, and the same limits.
 */
export function openQboSession(options: QboSessionOptions): QboSession {
  const { settings, logger, sleep } = options;
  const retry = { maxRetries: settings.maxRetries, backoffMs: settings.retryBackoffMs, throttleWaitMs: settings.throttleWaitMs };
  const transport = new Transport({ timeoutMs: settings.requestTimeoutMs, userAgent: settings.userAgent, maxSockets: settings.maxConcurrency + 1 });
  const budget = new RateBudget({ requestsPerMinute: settings.maxRequestsPerMinute, maxInFlight: settings.maxConcurrency, ...(sleep ? { sleep } : {}) });
  const auth = new OAuthClient({
    clientId: settings.clientId,
    clientSecret: settings.clientSecret,
    refreshToken: settings.refreshToken,
    tokenUrl: settings.tokenUrl,
    realmId: settings.realmId,
    store: new TokenStore(settings.tokenStorePath),
    transport,
    retry,
    logger,
    ...(sleep ? { sleep } : {}),
  });
  const client = new QboClient({
    transport,
    auth,
    budget,
    retry,
    logger,
    baseUrl: settings.baseUrl,
    realmId: settings.realmId,
    minorVersion: settings.minorVersion,
    sandbox: settings.sandbox,
    ...(sleep ? { sleep } : {}),
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
  });
  return { client, auth, budget, close: () => transport.close() };
}
