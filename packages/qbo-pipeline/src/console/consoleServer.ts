import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { createLogger, redact, UsageError } from 'singer-kit';
import { ConsoleContext, type ConsoleOptions } from './ConsoleContext.js';
import { isLoopbackHost } from './consoleAccess.js';
import { html, type SafeHtml } from './html.js';
import { page, type PageChrome } from './layout.js';
import {
  addTriggerFromForm,
  changeSchedule,
  evidencePage,
  findRun,
  findTrigger,
  LOG_TAIL_LINES,
  one,
  overviewPage,
  runNotShown,
  runPage,
  runsPage,
  runTotalsOf,
  schedulesPage,
  triggerFormOf,
} from './pages.js';
import { runFacts, runLinks, runLog, runLogHeading, runProgress, runTotals } from './views/runsView.js';
import { passwordMatches, Sessions } from './Sessions.js';
import { loginView } from './views/loginView.js';
import { inZone, utc } from '../formatTime.js';
import { zonedInstant } from './zonedInstant.js';
import { triggerJob } from '../triggers/Trigger.js';
import { SCHEDULE_NAME } from '../schedules/ScheduleStore.js';

const SESSION_COOKIE = 'qbo_console_session';
const CSRF_COOKIE = 'qbo_console_csrf';
/** What the page says after a schedule was changed (the query names the change; only these texts are shown). */
const SCHEDULE_DONE = new Map([
  ['pause', 'paused: no slot runs until it is resumed (a run in progress goes on)'],
  ['resume', 'resumed: it runs from its next slot'],
  ['remove', 'removed: its past triggers and runs stay'],
]);

/** How often a live run page's event stream looks at the run's files. */
const RUN_EVENTS_INTERVAL_MS = 1000;
/** Sign-in attempts allowed per client address and minute. */
const LOGIN_ATTEMPTS_PER_MINUTE = 10;

const ASSETS_DIR = fileURLToPath(new URL('../../assets/', import.meta.url));
const CHART_JS = path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');

/** The only files /assets serves: ours, and Chart.js from node_modules (no CDN). */
function loadAssets(): Map<string, { readonly type: string; readonly body: Buffer }> {
  const file = (name: string) => readFileSync(path.join(ASSETS_DIR, name));
  return new Map([
    ['console.css', { type: 'text/css; charset=utf-8', body: file('console.css') }],
    ['console.js', { type: 'text/javascript; charset=utf-8', body: file('console.js') }],
    ['favicon.svg', { type: 'image/svg+xml', body: file('favicon.svg') }],
    ['chart.umd.min.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(CHART_JS) }],
  ]);
}

/** What a CSRF token is bound to before signing in (or with no password): tokens then change at sign-in. */
const NO_SESSION = 'no-session';
const PUBLIC_PATHS = new Set(['/login', '/healthz']);
const isPublic = (url: string) => PUBLIC_PATHS.has(url.split('?')[0] ?? '') || url.startsWith('/assets/');

/** Where to go after signing in: a path of this console only (never another site). */
function safeNext(next: string): string {
  return /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : '/';
}

/**
 * The console as a fastify app (not listening yet; tests inject requests into it). Security:
 * a loopback console answers only to loopback Host names (no DNS rebinding); with a password,
 * every page but /login wants a session cookie (HttpOnly, SameSite=Strict); every POST wants
 * the CSRF token of its form; pages are sent with a strict Content-Security-Policy.
 */
async function buildConsole(options: ConsoleOptions): Promise<FastifyInstance> {
  const ctx = new ConsoleContext(options);
  await ctx.companies(); // a companies file that cannot be read stops the console before it listens
  const logger = options.logger ?? createLogger('qbo-pipeline console');
  const { access } = options;
  const sessions = new Sessions();
  const assets = loadAssets();
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, forceCloseConnections: true });

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
      },
    },
    hsts: false,
    referrerPolicy: { policy: 'no-referrer' },
  });
  await app.register(cookie);
  await app.register(formbody);
  await app.register(rateLimit, { global: false });
  const sessionOf = (request: FastifyRequest) => {
    const id = request.cookies[SESSION_COOKIE];
    return access.password && sessions.valid(id) ? id : undefined;
  };
  await app.register(csrf, {
    cookieKey: CSRF_COOKIE,
    cookieOpts: { path: '/', sameSite: 'strict', httpOnly: true },
    getUserInfo: (request: FastifyRequest) => sessionOf(request) ?? NO_SESSION,
    csrfOpts: { hmacKey: randomBytes(32) },
  });
  const csrfProtection = app.csrfProtection.bind(app);
  // One token per response: each generateCsrf without a secret cookie would mint a new secret.
  const tokens = new WeakMap<FastifyReply, string>();
  const csrfToken = (request: FastifyRequest, reply: FastifyReply) => {
    const token = tokens.get(reply) ?? reply.generateCsrf({ userInfo: sessionOf(request) ?? NO_SESSION });
    tokens.set(reply, token);
    return token;
  };

  const send = (reply: FastifyReply, request: FastifyRequest, chrome: Omit<PageChrome, 'now' | 'signedIn' | 'csrfToken'>, body: SafeHtml, status = 200) =>
    reply
      .code(status)
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(page({ ...chrome, now: ctx.now(), signedIn: sessionOf(request) !== undefined, csrfToken: csrfToken(request, reply) }, body).toString());

  app.addHook('onRequest', async (request, reply) => {
    if (access.loopback && !isLoopbackHost(request.hostname)) {
      return reply
        .code(421)
        .type('text/plain; charset=utf-8')
        .send(`This console answers only at 127.0.0.1, [::1] or localhost, not at ${request.hostname || '(no Host header)'}.\n`);
    }
    if (!access.password || isPublic(request.url) || sessionOf(request)) return;
    if (request.method === 'GET' || request.method === 'HEAD') return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
    return reply.code(401).type('text/plain; charset=utf-8').send('Sign in first: this console asks for a password.\n');
  });

  app.setErrorHandler(async (error: Error & { code?: string; statusCode?: number }, request, reply) => {
    if (error.code === 'FST_CSRF_INVALID_TOKEN' || error.code === 'FST_CSRF_MISSING_SECRET') {
      return send(
        reply,
        request,
        {
          title: 'Form expired',
          notice: {
            level: 'error',
            text: 'This form is out of date or did not come from this console, so nothing was changed. Reload the page and try again.',
          },
        },
        html`<p><a href="/">Back to the overview</a></p>`,
        403,
      );
    }
    if (error instanceof UsageError || (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)) {
      const status = error instanceof UsageError ? 400 : (error.statusCode ?? 400);
      return send(
        reply,
        request,
        { title: 'Not done', notice: { level: 'error', text: `${error.message} Nothing was changed.` } },
        html`<p><a href="/">Back to the overview</a></p>`,
        status,
      );
    }
    logger.error(`console: ${request.method} ${request.url.split('?')[0] ?? ''}: ${redact(error.stack ?? error.message)}`);
    return send(
      reply,
      request,
      { title: 'Error', notice: { level: 'error', text: `Something went wrong: ${error.message}` } },
      html`<p><a href="/">Back to the overview</a></p>`,
      500,
    );
  });
  app.setNotFoundHandler(async (request, reply) =>
    send(
      reply,
      request,
      { title: 'Not found', notice: { level: 'error', text: `No page at ${request.url.split('?')[0] ?? ''}.` } },
      html`<p><a href="/">Back to the overview</a></p>`,
      404,
    ),
  );

  app.get('/healthz', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('ok\n'));
  app.get<{ Params: { name: string } }>('/assets/:name', async (request, reply) => {
    const asset = assets.get(request.params.name);
    if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('no such asset\n');
    return reply.type(asset.type).header('cache-control', 'public, max-age=300').send(asset.body);
  });

  // ---- sign in --------------------------------------------------------------------------
  app.get<{ Querystring: Record<string, unknown> }>('/login', async (request, reply) => {
    if (!access.password) return reply.redirect('/', 303);
    return send(reply, request, { title: 'Sign in' }, loginView({ csrfToken: csrfToken(request, reply), next: safeNext(one(request.query.next)) }));
  });
  app.post<{ Body: Record<string, unknown> }>(
    '/login',
    { preHandler: csrfProtection, config: { rateLimit: { max: LOGIN_ATTEMPTS_PER_MINUTE, timeWindow: 60_000 } } },
    async (request, reply) => {
      const next = safeNext(one(request.body?.next));
      if (!access.password) return reply.redirect(next, 303);
      if (!passwordMatches(typeof request.body?.password === 'string' ? request.body.password : '', access.password)) {
        logger.warn(`console: a sign-in with a wrong password from ${request.ip}`);
        return send(reply, request, { title: 'Sign in' }, loginView({ csrfToken: csrfToken(request, reply), next, error: 'Wrong password.' }), 401);
      }
      sessions.end(request.cookies[SESSION_COOKIE]);
      const id = sessions.create();
      reply.setCookie(SESSION_COOKIE, id, { path: '/', httpOnly: true, sameSite: 'strict', maxAge: Math.floor(sessions.ttlMs / 1000) });
      return reply.redirect(next, 303);
    },
  );
  app.post('/logout', { preHandler: csrfProtection }, async (request, reply) => {
    sessions.end(request.cookies[SESSION_COOKIE]);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect(access.password ? '/login' : '/', 303);
  });

  // ---- pages ----------------------------------------------------------------------------
  app.get('/', async (request, reply) => send(reply, request, { title: 'Overview', section: '/' }, await overviewPage(ctx)));

  app.get<{ Querystring: Record<string, unknown> }>('/runs', async (request, reply) => {
    const { body, badInput } = await runsPage(ctx, request.query);
    return send(reply, request, { title: 'Runs', section: '/runs' }, body, badInput ? 400 : 200);
  });

  app.get<{ Params: { id: string } }>('/runs/:id', async (request, reply) => {
    const found = await findRun(ctx, request.params.id);
    if (!found)
      return send(
        reply,
        request,
        {
          title: 'No such run',
          section: '/runs',
          notice: {
            level: 'error',
            text:
              (await runNotShown(ctx, request.params.id)) ??
              `No run ${request.params.id} in the runs journal (finished runs beyond the newest 100 of a job are pruned).`,
          },
        },
        html`<p><a href="/runs">All runs</a></p>`,
        404,
      );
    // A run whose runner is only missing (`silent`) is still followed: a scheduler's sweep closes it.
    const running = found.run.record.status === 'running' && found.run.orphaned !== 'gone';
    return send(
      reply,
      request,
      { title: `Run ${found.run.record.id}`, section: '/runs', ...(running ? { refreshSeconds: 3 } : {}) },
      await runPage(ctx, found),
    );
  });

  // Live progress: a server-sent event whenever the run's record or log changes, until it ends.
  app.get<{ Params: { id: string } }>('/runs/:id/events', async (request, reply) => {
    const found = await findRun(ctx, request.params.id);
    if (!found) return reply.code(404).type('text/plain; charset=utf-8').send('no such run\n');
    const { journal } = found;
    const id = found.run.record.id;
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    let closed = false;
    request.raw.on('close', () => {
      closed = true;
    });
    let seen = '';
    while (!closed) {
      const current = await findRun(ctx, id);
      if (!current) break;
      const log = await journal.tail(id, LOG_TAIL_LINES);
      const version = `${current.run.record.updatedAt}|${current.run.orphaned}|${log.length}|${log.at(-1) ?? ''}`;
      const now = ctx.now();
      const ended = current.run.record.status !== 'running' || current.run.orphaned === 'gone';
      if (version !== seen) {
        seen = version;
        const parts: Record<string, string> = {
          'run-links': runLinks(current.run).toString(),
          'run-facts': runFacts(current.run, now).toString(),
          'run-progress': runProgress(current.run).toString(),
          'run-log-heading': runLogHeading(current.run, LOG_TAIL_LINES).toString(),
          'run-log': runLog(log).toString(),
        };
        if (ended) parts['run-totals'] = runTotals(await runTotalsOf(ctx, current.run)).toString();
        const data = { status: ended && current.run.orphaned ? 'orphaned' : current.run.record.status, html: parts };
        reply.raw.write(`event: run\ndata: ${JSON.stringify(data)}\n\n`);
      } else {
        reply.raw.write(': still running\n\n');
      }
      if (ended) break;
      await new Promise((resolve) => setTimeout(resolve, RUN_EVENTS_INTERVAL_MS));
    }
    reply.raw.end();
  });

  app.get<{ Querystring: Record<string, unknown> }>('/evidence', async (request, reply) => {
    const { body, badInput } = await evidencePage(ctx, request.query);
    return send(reply, request, { title: 'Evidence', section: '/evidence', scripts: ['chart.umd.min.js'] }, body, badInput ? 400 : 200);
  });

  app.get<{ Querystring: Record<string, unknown> }>('/schedules', async (request, reply) => {
    const zone = one(request.query.zone) || ctx.zone;
    const added = one(request.query.added);
    const trigger = added ? await findTrigger(ctx, added) : undefined;
    const changed = one(request.query.schedule);
    const done = SCHEDULE_DONE.get(one(request.query.done));
    const notice =
      SCHEDULE_NAME.test(changed) && done
        ? { level: 'ok' as const, text: `Schedule ${changed} ${done}.` }
        : trigger
          ? {
              level: 'ok' as const,
              text: html`Trigger <code>${trigger.id}</code> added: it runs at ${utc(trigger.at)}, which is ${inZone(trigger.at, zone)} in ${zone}${Date.parse(trigger.at) <= ctx.now().getTime() ? '; it is already due, so the scheduler runs it at its next pass' : ''}.`,
            }
          : undefined;
    return send(
      reply,
      request,
      { title: 'Schedules & triggers', section: '/schedules', ...(notice ? { notice } : {}) },
      await schedulesPage(ctx, {
        csrfToken: csrfToken(request, reply),
        zone,
        ...(one(request.query.slots) ? { slotsOf: { company: one(request.query.company), schedule: one(request.query.slots) } } : {}),
      }),
    );
  });

  app.get<{ Querystring: Record<string, unknown> }>('/triggers/preview', async (request, reply) => {
    try {
      const at = zonedInstant(one(request.query.at), one(request.query.zone) || 'UTC');
      return reply.header('cache-control', 'no-store').send(at);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      return reply.code(400).header('cache-control', 'no-store').send({ error: error.message });
    }
  });

  app.post<{ Body: Record<string, unknown> }>('/triggers', { preHandler: csrfProtection }, async (request, reply) => {
    const form = triggerFormOf(request.body ?? {}, ctx.zone);
    const render = (status: number, extra: { preview?: ReturnType<typeof zonedInstant>; formError?: string }) =>
      schedulesPage(ctx, { csrfToken: csrfToken(request, reply), zone: form.zone, form, ...extra }).then((body) =>
        send(reply, request, { title: 'Schedules & triggers', section: '/schedules' }, body, status),
      );
    if (one(request.body?.action) === 'preview') {
      try {
        return await render(200, { preview: zonedInstant(form.at, form.zone) });
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        return render(400, { formError: error.message });
      }
    }
    try {
      const { trigger } = await addTriggerFromForm(ctx, form);
      logger.info(`console: trigger ${trigger.id} added for ${trigger.at} (${triggerJob(trigger)})`);
      return reply.redirect(`/schedules?added=${encodeURIComponent(trigger.id)}&zone=${encodeURIComponent(form.zone)}`, 303);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      return render(400, { formError: error.message });
    }
  });

  app.post<{ Params: { name: string; action: string }; Body: Record<string, unknown> }>(
    '/schedules/:name/:action',
    { preHandler: csrfProtection },
    async (request, reply) => {
      const { name, action } = request.params;
      const done = await changeSchedule(ctx, one(request.body?.company), name, action);
      logger.info(`console: schedule ${name}: ${done}`);
      return reply.redirect(`/schedules?schedule=${encodeURIComponent(name)}&done=${done}`, 303);
    },
  );

  return app;
}

export interface RunningConsole {
  readonly url: string;
  close(): Promise<void>;
}

/** Builds the console and listens; `url` is where a browser opens it. */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const app = await buildConsole(options);
  await app.listen({ host: options.access.host, port: options.access.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.access.port;
  const host = options.access.host.includes(':') ? `[${options.access.host}]` : options.access.host;
  const shown = host === '0.0.0.0' || host === '[::]' ? 'localhost' : host;
  return { url: `http://${shown}:${port}/`, close: () => app.close() };
}
