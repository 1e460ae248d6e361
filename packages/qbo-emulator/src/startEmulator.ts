import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, registerSecret } from 'singer-kit';
import { handleAdmin } from './adminApi.js';
import { json, type Answer } from './DataApi.js';
import { companySetups, EmulatedRealm } from './EmulatedRealm.js';
import type { Emulator, EmulatorOptions, EmulatorStats, RequestLogEntry } from './Emulator.js';
import { FaultInjector, type FaultKind, type FaultPlan, type RequestKind } from './faults.js';
import * as body from './responses.js';

const TOKEN_PATH = '/oauth2/v1/tokens/bearer';
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
  const startedReal = Date.now();
  // The companies' clock starts at `now` and runs on in real time.
  const realNowMs = options.now ? () => (options.now as Date).getTime() + (Date.now() - startedReal) : () => Date.now();
  let shiftMs = 0; // setNow
  const nowMs = () => realNowMs() + shiftMs;
  const clientId = options.clientId ?? `emulator-client-${seed}`;
  const clientSecret = options.clientSecret ?? `emulator-secret-${seed}-0000`;
  registerSecret(clientSecret);
  let visibilityDelaySeconds = options.visibilityDelaySeconds ?? 0;
  const realms = companySetups(options).map(
    (setup) => new EmulatedRealm({ ...setup, emulator: options, clientId, clientSecret, nowMs, visibilityDelaySeconds: () => visibilityDelaySeconds }),
  );
  const byRealmId = new Map(realms.map((r) => [r.realmId, r]));
  const first = realms[0] as EmulatedRealm;
  let faults = new FaultInjector(options.faults ?? { rules: [] }, seed);
  let latencyMs = options.latencyMs ?? 0;
  const requests: RequestLogEntry[] = [];
  const log = createLogger('qbo-emulator');
  const stats = { requests: 0, throttled: 0, faults: {} as Record<string, number> };
  const stalled = new Set<ServerResponse>();
  const delay = async () => {
    if (latencyMs > 0) await sleep(latencyMs);
  };
  /** While set (holdAnswers), every request waits for it before it is answered. */
  let held: Promise<void> | undefined;

  /** Token grant, or a data request: authentication, then the realm's limits, then the answer. */
  async function answer(req: IncomingMessage, res: ServerResponse, url: URL, kind: RequestKind, posted: string | undefined): Promise<Answer> {
    if (kind === 'token') {
      if (req.method !== 'POST') return json(405, '{"error":"invalid_request"}');
      await delay();
      const form = new URLSearchParams(posted ?? '');
      // One token endpoint for every company: the refresh token says whose chain it is.
      const owner = realms.find((r) => r.currentRefreshToken() === form.get('refresh_token')) ?? first;
      const result = owner.tokens.refresh(form, req.headers.authorization);
      return json(result.status, JSON.stringify(result.body));
    }
    const realmId = DATA_PATH.exec(url.pathname)?.[1];
    const realm = realmId === undefined ? undefined : byRealmId.get(realmId);
    // An access token works for the company it was issued for only.
    const bearer = req.headers.authorization;
    const authProblem = realm
      ? realm.tokens.checkBearer(bearer)
      : realms.some((r) => r.tokens.checkBearer(bearer) === undefined)
        ? undefined
        : first.tokens.checkBearer(bearer);
    if (authProblem) return json(401, body.authenticationFault(nowMs(), authProblem), { 'www-authenticate': body.WWW_AUTHENTICATE });
    if (!realm) {
      await delay();
      return realmId === undefined
        ? json(400, body.faultBody(nowMs(), 'ValidationFault', [body.unsupportedOperation(`The emulator does not serve ${req.method} ${url.pathname}`)]))
        : json(404, body.unknownRealmFault(nowMs(), realmId));
    }
    if (realm.budget.tryStart(nowMs())) {
      stats.throttled++;
      return throttled();
    }
    res.on('close', () => realm.budget.finish());
    // The latency is spent in flight, so it counts against the realm's concurrency as slow QBO answers do.
    await delay();
    if (kind === 'query' || kind === 'count') return realm.data.query(url.searchParams.get('query') ?? posted);
    if (kind === 'cdc') return realm.data.cdc(url.searchParams);
    if (kind === 'batch') return realm.data.batch(posted);
    return json(400, body.faultBody(nowMs(), 'ValidationFault', [body.unsupportedOperation(`The emulator does not serve ${req.method} ${url.pathname}`)]));
  }

  /** QBO's 429, in XML even when JSON was asked for, with `Retry-After` when the options give one. */
  function throttled(): Answer {
    const headers: Record<string, string> = options.retryAfterSeconds === undefined ? {} : { 'retry-after': String(options.retryAfterSeconds) };
    return { status: 429, text: body.throttleBody(nowMs()), contentType: 'application/xml', headers };
  }

  async function injectFault(
    fault: FaultKind,
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    kind: RequestKind,
    posted: string | undefined,
  ): Promise<Answer | undefined> {
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
    if (fault === '200-truncated') {
      // The real answer (its effects too: a token request rotates the refresh token), cut in half.
      const real = await answer(req, res, url, kind, posted);
      if (real.status !== 200) return real;
      const bytes = typeof real.text === 'string' ? Buffer.from(real.text, 'utf8') : real.text;
      return { ...real, text: bytes.subarray(0, Math.floor(bytes.length / 2)) };
    }
    await delay();
    if (fault === '200-html') return { status: 200, text: body.proxyPage(), contentType: 'text/html' };
    if (fault === '200-empty') return { status: 200, text: '', contentType: 'application/json;charset=UTF-8' };
    if (fault === '200-json') return json(200, JSON.stringify({ time: new Date(nowMs()).toISOString() }));
    if (fault === '429') return throttled();
    const status = Number(fault);
    return status === 500 ? json(500, body.systemFault(nowMs())) : { status, text: body.gatewayBody(status), contentType: 'text/html' };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const intuitTid = randomUUID();
    res.setHeader('intuit_tid', intuitTid);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    if (path.startsWith('/__admin/')) {
      const admin = handleAdmin(req, url, await readBody(req), control);
      res.writeHead(admin.status, { 'content-type': 'application/json;charset=UTF-8' }).end(admin.text);
      return;
    }
    const posted = req.method === 'POST' ? await readBody(req) : undefined;
    const kind = requestKind(path, url, posted);
    // Whose request it is: the realm in the path, or for a token request its refresh token's company.
    const realmId =
      kind === 'token'
        ? realms.find((r) => r.currentRefreshToken() === new URLSearchParams(posted ?? '').get('refresh_token'))?.realmId
        : DATA_PATH.exec(path)?.[1];
    stats.requests++;
    res.on('close', () => {
      const status = res.headersSent ? res.statusCode : 0;
      requests.push({
        method: req.method ?? '',
        path,
        query: loggedQuery(url),
        status,
        durationMs: Math.round(performance.now() - started),
        kind,
        intuitTid,
        ...(realmId ? { realmId } : {}),
      });
    });
    while (held) await held;
    const fault = faults.decide(kind, realmId);
    const reply = fault ? await injectFault(fault, req, res, url, kind, posted) : await answer(req, res, url, kind, posted);
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

  const company = (realmId: string) => {
    const realm = byRealmId.get(realmId);
    if (!realm) throw new RangeError(`no company with realm id ${realmId}; the emulator serves ${[...byRealmId.keys()].join(', ')}`);
    return realm;
  };
  const control: Emulator = {
    baseUrl,
    tokenUrl: `${baseUrl}${TOKEN_PATH}`,
    realmId: first.realmId,
    clientId,
    clientSecret,
    companies: realms,
    company,
    tapSettings: (extra = {}) => ({
      base_url: baseUrl,
      token_url: `${baseUrl}${TOKEN_PATH}`,
      realm_id: first.realmId,
      client_id: clientId,
      client_secret: clientSecret,
      refresh_token: first.currentRefreshToken(),
      ...extra,
    }),
    currentRefreshToken: () => first.currentRefreshToken(),
    revokeTokens: () => first.revokeTokens(),
    reconnect: () => first.reconnect(),
    now: () => new Date(nowMs()),
    setNow: (at: Date) => {
      shiftMs = at.getTime() - realNowMs();
    },
    setFaults: (plan: FaultPlan) => {
      faults = new FaultInjector(plan, seed);
    },
    setLatency: (ms: number) => {
      latencyMs = Math.max(0, ms);
    },
    setVisibilityDelay: (seconds: number) => {
      visibilityDelaySeconds = Math.max(0, Math.floor(seconds));
    },
    holdAnswers: () => {
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      held = gate;
      return () => {
        if (held === gate) held = undefined;
        release();
      };
    },
    touchAfterPage: (opts) => first.touchAfterPage(opts),
    touch: (entity, id) => first.touch(entity, id),
    create: (entity) => first.create(entity),
    update: (entity, id, members) => first.update(entity, id, members),
    voidTransaction: (entity, id) => first.voidTransaction(entity, id),
    deleteTransaction: (entity, id) => first.deleteTransaction(entity, id),
    truth: (stream) => first.truth(stream),
    truthIterator: (stream) => first.truthIterator(stream),
    expireAccessTokens: () => first.expireAccessTokens(),
    setAccessTokenMaxUses: (uses) => first.setAccessTokenMaxUses(uses),
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
