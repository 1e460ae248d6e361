import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, registerSecret } from 'singer-kit';
import { handleAdmin } from './adminApi.js';
import { CompanyStore } from './CompanyStore.js';
import { DataApi, json, type Answer } from './DataApi.js';
import type { Emulator, EmulatorOptions, EmulatorStats, RequestLogEntry } from './Emulator.js';
import { FaultInjector, type FaultKind, type FaultPlan, type RequestKind } from './faults.js';
import { RequestBudget } from './RequestBudget.js';
import * as body from './responses.js';
import { TokenAuthority } from './TokenAuthority.js';

export const DEFAULT_REALM_ID = '9341453050000000';
export const TOKEN_PATH = '/oauth2/v1/tokens/bearer';
/** Query-string parameters never copied into the request log. */
const SECRET_PARAMS = /token|secret|password|code|authorization/i;
const DATA_PATH = /^\/v3\/company\/([^/]+)\/([^/]+)$/;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function requestKind(path: string, url: URL, posted: string | undefined): RequestKind {
  if (path === TOKEN_PATH) return 'token';
  const operation = DATA_PATH.exec(path)?.[2]?.toLowerCase();
  if (operation === 'cdc' || operation === 'batch') return operation;
  if (operation === 'query') return /^\s*select\s+count\s*\(/i.test(url.searchParams.get('query') ?? posted ?? '') ? 'count' : 'query';
  return 'other';
}

function loggedQuery(url: URL): string {
  const text = new URLSearchParams([...url.searchParams].filter(([k]) => !SECRET_PARAMS.test(k))).toString();
  return text ? `?${text}` : '';
}

/** Starts a QuickBooks Online emulator on 127.0.0.1; see the package README. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const seed = options.seed ?? 42;
  const realmId = options.realmId ?? DEFAULT_REALM_ID;
  const startedReal = Date.now();
  // The company's clock starts at `now` and runs on in real time.
  const nowMs = options.now ? () => (options.now as Date).getTime() + (Date.now() - startedReal) : () => Date.now();
  const nowSec = () => Math.floor(nowMs() / 1000);
  const store = new CompanyStore({
    seed,
    nowSec: nowSec(),
    days: options.days ?? 90,
    ...(options.counts ? { counts: options.counts } : {}),
    ...(options.fixturesDir ? { fixturesDir: options.fixturesDir } : {}),
  });
  const data = new DataApi(store, nowMs);
  const clientId = options.clientId ?? `emulator-client-${seed}`;
  const clientSecret = options.clientSecret ?? `emulator-secret-${seed}-0000`;
  registerSecret(clientSecret);
  const tokens = new TokenAuthority({
    clientId,
    clientSecret,
    refreshToken: options.refreshToken ?? `AB11emulator-refresh-token-seed-${seed}`,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 3600,
    rotation: options.rotation ?? 'every-refresh',
    ...(options.refreshTokenHardExpiresInSeconds === undefined ? {} : { refreshTokenHardExpiresInSeconds: options.refreshTokenHardExpiresInSeconds }),
    accessTokenMaxUses: options.accessTokenMaxUses,
    now: nowMs,
  });
  const budget = new RequestBudget(options.requestsPerMinute ?? 500, options.maxInFlight ?? 10);
  let faults = new FaultInjector(options.faults ?? { rules: [] }, seed);
  let latencyMs = options.latencyMs ?? 0;
  const requests: RequestLogEntry[] = [];
  const log = createLogger('qbo-emulator');
  const stats = { requests: 0, throttled: 0, faults: {} as Record<string, number> };
  const stalled = new Set<ServerResponse>();
  const delay = async () => {
    if (latencyMs > 0) await sleep(latencyMs);
  };

  /** Token grant, or a data request: authentication, then the realm's limits, then the answer. */
  async function answer(req: IncomingMessage, res: ServerResponse, url: URL, kind: RequestKind, posted: string | undefined): Promise<Answer> {
    if (kind === 'token') {
      if (req.method !== 'POST') return json(405, '{"error":"invalid_request"}');
      await delay();
      const result = tokens.refresh(new URLSearchParams(posted ?? ''), req.headers.authorization);
      return json(result.status, JSON.stringify(result.body));
    }
    const authProblem = tokens.checkBearer(req.headers.authorization);
    if (authProblem) return json(401, body.authenticationFault(nowMs(), authProblem), { 'www-authenticate': body.WWW_AUTHENTICATE });
    if (budget.tryStart(nowMs())) {
      stats.throttled++;
      const headers: Record<string, string> = options.retryAfterSeconds === undefined ? {} : { 'retry-after': String(options.retryAfterSeconds) };
      return { status: 429, text: body.throttleBody(nowMs()), contentType: 'application/xml', headers };
    }
    res.on('close', () => budget.finish());
    // The latency is spent in flight, so it counts against the realm's concurrency as slow QBO answers do.
    await delay();
    const m = DATA_PATH.exec(url.pathname);
    if (m && m[1] !== realmId) return json(404, body.unknownRealmFault(nowMs(), m[1] as string));
    if (kind === 'query' || kind === 'count') return data.query(url.searchParams.get('query') ?? posted);
    if (kind === 'cdc') return data.cdc(url.searchParams);
    if (kind === 'batch') return data.batch(posted);
    return json(400, body.faultBody(nowMs(), 'ValidationFault', [body.unsupportedOperation(`The emulator does not serve ${req.method} ${url.pathname}`)]));
  }

  async function injectFault(fault: FaultKind, req: IncomingMessage, res: ServerResponse): Promise<Answer | undefined> {
    stats.faults[fault] = (stats.faults[fault] ?? 0) + 1;
    if (fault === 'reset') {
      req.socket.destroy();
      return undefined;
    }
    if (fault === 'stall') {
      stalled.add(res);
      res.on('close', () => stalled.delete(res));
      return undefined;
    }
    const status = Number(fault);
    await delay();
    return status === 500 ? json(500, body.systemFault(nowMs())) : { status, text: body.gatewayBody(status), contentType: 'text/html' };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const intuitTid = randomUUID();
    res.setHeader('intuit_tid', intuitTid);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    if (path.startsWith('/__admin/')) {
      const admin = await handleAdmin(req, url, await readBody(req), control);
      res.writeHead(admin.status, { 'content-type': 'application/json;charset=UTF-8' }).end(admin.text);
      return;
    }
    const posted = req.method === 'POST' ? await readBody(req) : undefined;
    const kind = requestKind(path, url, posted);
    stats.requests++;
    res.on('close', () => {
      const status = res.headersSent ? res.statusCode : 0;
      requests.push({ method: req.method ?? '', path, query: loggedQuery(url), status, durationMs: Math.round(performance.now() - started), kind, intuitTid });
    });
    const fault = faults.decide(kind);
    const reply = fault ? await injectFault(fault, req, res) : await answer(req, res, url, kind, posted);
    if (!reply) return;
    res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'text/plain', ...reply.headers });
    res.end(reply.text);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json;charset=UTF-8' });
      res.end(body.systemFault(nowMs()));
      log.error(`internal error on ${req.method} ${req.url?.split('?')[0]}: ${(error as Error)?.stack ?? String(error)}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;

  const control: Emulator = {
    baseUrl,
    tokenUrl: `${baseUrl}${TOKEN_PATH}`,
    realmId,
    clientId,
    clientSecret,
    currentRefreshToken: () => tokens.currentRefreshToken(),
    setFaults: (plan: FaultPlan) => {
      faults = new FaultInjector(plan, seed);
    },
    setLatency: (ms: number) => {
      latencyMs = Math.max(0, ms);
    },
    touchAfterPage: ({ entity, afterPage, count = 1 }) => data.touchAfterPage(entity, afterPage, count),
    touch: (entity, id) => store.touch(entity, id, nowSec()),
    deleteTransaction: (entity, id) => store.delete(entity, id, nowSec()),
    truth: (stream) => [...store.truth(stream)],
    truthIterator: (stream) => store.truth(stream),
    expireAccessTokens: () => tokens.expireAccessTokens(),
    setAccessTokenMaxUses: (uses) => tokens.setAccessTokenMaxUses(uses),
    requestLog: () => [...requests],
    stats: (): EmulatorStats => ({ requests: stats.requests, throttled: stats.throttled, faults: { ...stats.faults } }),
    close: async () => {
      for (const res of stalled) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return control;
}
