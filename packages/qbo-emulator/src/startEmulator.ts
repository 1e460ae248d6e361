import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { entityByName, type EntityInfo } from 'qbo-catalog';
import { registerSecret } from 'singer-kit';
import { handleAdmin } from './adminApi.js';
import { CompanyStore } from './CompanyStore.js';
import type { Emulator, EmulatorOptions, EmulatorStats, RequestLogEntry } from './Emulator.js';
import { FaultInjector, type FaultKind, type FaultPlan, type RequestKind } from './faults.js';
import { parseQboDateTime } from './pacificTime.js';
import { QueryParseError, parseQuery } from './queryLanguage.js';
import { RequestBudget } from './RequestBudget.js';
import * as body from './responses.js';
import { QueryValidationError, runQuery } from './runQuery.js';
import { TokenAuthority } from './TokenAuthority.js';

export const DEFAULT_REALM_ID = '9341453050000000';
export const TOKEN_PATH = '/oauth2/v1/tokens/bearer';
const CDC_LOOKBACK_DAYS = 30;
/** Query-string parameters never copied into the request log. */
const SECRET_PARAMS = /token|secret|password|code|authorization/i;

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const json = (status: number, text: string, headers?: Record<string, string>): Answer => ({ status, text, contentType: 'application/json;charset=UTF-8', ...(headers ? { headers } : {}) });

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function requestKind(path: string, url: URL, postedQuery: string | undefined): RequestKind {
  if (path === TOKEN_PATH) return 'token';
  if (/^\/v3\/company\/[^/]+\/cdc$/i.test(path)) return 'cdc';
  if (/^\/v3\/company\/[^/]+\/query$/i.test(path)) {
    return /^\s*select\s+count\s*\(/i.test(url.searchParams.get('query') ?? postedQuery ?? '') ? 'count' : 'query';
  }
  return 'other';
}

function loggedQuery(url: URL): string {
  const params = new URLSearchParams([...url.searchParams].filter(([k]) => !SECRET_PARAMS.test(k)));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Starts a QuickBooks Online emulator on 127.0.0.1; see the package README. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const seed = options.seed ?? 42;
  const realmId = options.realmId ?? DEFAULT_REALM_ID;
  const startedReal = Date.now();
  const nowMs = options.now ? () => (options.now as Date).getTime() + (Date.now() - startedReal) : () => Date.now();
  const nowSec = () => Math.floor(nowMs() / 1000);
  const store = new CompanyStore({
    seed,
    nowSec: nowSec(),
    days: options.days ?? 90,
    ...(options.counts ? { counts: options.counts } : {}),
    ...(options.fixturesDir ? { fixturesDir: options.fixturesDir } : {}),
  });
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
    now: nowMs,
  });
  const budget = new RequestBudget(options.requestsPerMinute ?? 500, options.maxInFlight ?? 10);
  let faults = new FaultInjector(options.faults ?? { rules: [] }, seed);
  let latencyMs = options.latencyMs ?? 0;
  const pageHooks: Array<{ entity: string; afterPage: number; count: number }> = [];
  const log: RequestLogEntry[] = [];
  const stats = { requests: 0, throttled: 0, faults: {} as Record<string, number> };
  const stalled = new Set<ServerResponse>();

  const touchNow = (entity: string, id: string) => store.touch(entity, id, nowSec());
  const delay = async () => {
    if (latencyMs > 0) await sleep(latencyMs);
  };

  function answerQuery(text: string | undefined): Answer {
    const now = nowMs();
    let parsed;
    try {
      parsed = parseQuery(text ?? '');
    } catch (error) {
      if (error instanceof QueryParseError) return json(400, body.queryParseFault(now, error.detail));
      throw error;
    }
    const table = store.table(parsed.entity);
    if (!table) return json(400, body.queryValidationFault(now, `QueryValidationError: Entity ${parsed.entity} not found`));
    let outcome;
    try {
      outcome = runQuery(table, parsed);
    } catch (error) {
      if (error instanceof QueryValidationError) return json(400, body.queryValidationFault(now, error.detail));
      throw error;
    }
    if (outcome.kind === 'count') return json(200, body.countBody(now, outcome.totalCount));
    const texts = outcome.positions.map((i) => table.textAt(i));
    const page = Math.floor((parsed.startPosition - 1) / Math.max(1, parsed.maxResults)) + 1;
    const hook = pageHooks.findIndex((h) => h.entity === table.info.entity.toLowerCase() && h.afterPage === page);
    if (hook >= 0 && texts.length > 0) {
      // Bump rows this page just served: they leave the window and every later row moves up.
      const { count } = pageHooks.splice(hook, 1)[0] as { count: number };
      for (const i of outcome.positions.slice(0, count).map((p) => String(table.idAt(p)))) touchNow(table.info.entity, i);
    }
    return json(200, body.queryPageBody(now, table.info.entity, texts, parsed.startPosition));
  }

  function answerCdc(url: URL): Answer {
    const now = nowMs();
    const invalid = (detail: string, code = '2010') => json(400, body.faultBody(now, 'ValidationFault', [{ message: 'Invalid Request', detail, code }]));
    const names = (url.searchParams.get('entities') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (names.length === 0) return invalid('entities is required');
    const infos: EntityInfo[] = [];
    for (const name of names) {
      const info = entityByName(name);
      if (!info || !info.cdc) {
        return json(400, body.faultBody(now, 'ValidationFault', [{ message: 'Unsupported Operation', detail: `Operation CDC is not supported for entity ${name}`, code: '500' }]));
      }
      infos.push(info);
    }
    const since = parseQboDateTime(url.searchParams.get('changedSince') ?? '');
    if (since === undefined) return invalid('changedSince is required and must be a date-time');
    if (since < now - CDC_LOOKBACK_DAYS * 86400_000) return invalid(`changedSince cannot be more than ${CDC_LOOKBACK_DAYS} days in the past`);
    return json(200, body.cdcBody(now, store.cdc(infos, Math.ceil(since / 1000))));
  }

  /** Token grant, or a data request: authentication, then the realm's limits, then the answer. */
  async function answerApi(req: IncomingMessage, res: ServerResponse, url: URL, path: string, kind: RequestKind, posted: string | undefined): Promise<Answer> {
    if (kind === 'token') {
      if (req.method !== 'POST') return json(405, '{"error":"invalid_request"}');
      await delay();
      const result = tokens.refresh(new URLSearchParams(posted ?? ''), req.headers.authorization);
      return json(result.status, JSON.stringify(result.body));
    }
    const authProblem = tokens.checkBearer(req.headers.authorization);
    if (authProblem) return json(401, body.authenticationFault(nowMs(), authProblem), { 'www-authenticate': body.WWW_AUTHENTICATE });
    const refused = budget.tryStart(nowMs());
    if (refused) {
      stats.throttled++;
      const headers: Record<string, string> = options.retryAfterSeconds === undefined ? {} : { 'retry-after': String(options.retryAfterSeconds) };
      return { status: 429, text: body.throttleBody(nowMs()), contentType: 'application/xml', headers };
    }
    res.on('close', () => budget.finish());
    // The latency is spent in flight, so it counts against the realm's concurrency like slow QBO answers do.
    await delay();
    const m = /^\/v3\/company\/([^/]+)\/(.+)$/.exec(path);
    if (!m) return json(404, body.faultBody(nowMs(), 'ValidationFault', [{ message: 'Unsupported Operation', detail: `No such resource: ${path}`, code: '500' }]));
    if (m[1] !== realmId) return json(404, body.unknownRealmFault(nowMs(), m[1] as string));
    if (kind === 'query' || kind === 'count') return answerQuery(url.searchParams.get('query') ?? posted);
    if (kind === 'cdc') return answerCdc(url);
    return json(400, body.faultBody(nowMs(), 'ValidationFault', [{ message: 'Unsupported Operation', detail: `Operation ${m[2]} is not supported by the emulator`, code: '500' }]));
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
      log.push({ method: req.method ?? '', path, query: loggedQuery(url), status: res.headersSent ? res.statusCode : 0, durationMs: Math.round(performance.now() - started), kind, intuitTid });
    });
    const fault = faults.decide(kind);
    const answer = fault ? await injectFault(fault, req, res) : await answerApi(req, res, url, path, kind, posted);
    if (!answer) return;
    res.writeHead(answer.status, { 'content-type': answer.contentType ?? 'text/plain', ...answer.headers });
    res.end(answer.text);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json;charset=UTF-8' });
      res.end(body.systemFault(nowMs()));
      process.stderr.write(`qbo-emulator: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
    });
  });
  // Clients of a QBO extractor may keep sockets alive; close() must not wait for them.
  server.keepAliveTimeout = 5_000;
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
    touchAfterPage: ({ entity, afterPage, count = 1 }) => {
      if (!Number.isInteger(afterPage) || afterPage < 1 || !Number.isInteger(count) || count < 1) {
        throw new RangeError(`touchAfterPage needs whole numbers afterPage >= 1 and count >= 1, got ${afterPage} and ${count}`);
      }
      const info = store.tableByStream(entity).info;
      pageHooks.push({ entity: info.entity.toLowerCase(), afterPage, count });
    },
    touch: touchNow,
    deleteTransaction: (entity, id) => store.delete(entity, id, nowSec()),
    truth: (stream) => [...store.truth(stream)],
    truthIterator: (stream) => store.truth(stream),
    expireAccessTokens: () => tokens.expireAccessTokens(),
    requestLog: () => [...log],
    stats: (): EmulatorStats => ({ requests: stats.requests, throttled: stats.throttled, faults: { ...stats.faults } }),
    close: async () => {
      for (const res of stalled) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return control;
}
