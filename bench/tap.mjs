// tap-quickbooks benchmarks against the emulator over real HTTP (run after a build):
//   node bench/tap.mjs [records] [rate] [--seconds N]
// records: zero latency, 1000-row pages: RECORD lines per second the tap writes (stdout counted
//          here). The emulator builds each 1000-row page in about 0.3 s, which would cap any client
//          near 3,000 records/s, so the run is done twice through a caching HTTP proxy in front of
//          the emulator: the first run fills the cache, the second (measured) gets the same exact
//          bodies over HTTP at the speed of the proxy.
// rate:    300 ms latency, QBO's 500 requests/min limit enforced by the emulator: requests per
//          minute the tap achieves over N seconds (default 60) from its first query, and 429s seen.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../packages/qbo-emulator/dist/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '../packages/tap-quickbooks/dist/cli.js');
const args = process.argv.slice(2);
const secondsAt = args.indexOf('--seconds');
const seconds = secondsAt >= 0 ? Number(args[secondsAt + 1]) : 60;
const parts = args.filter((a, i) => !a.startsWith('--') && !(secondsAt >= 0 && i === secondsAt + 1));
const wanted = (name) => parts.length === 0 || parts.includes(name);
// BENCH_TAP_NODE_ARGS: extra node options for the tap, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
const nodeArgs = (process.env.BENCH_TAP_NODE_ARGS ?? '').split(' ').filter(Boolean);
const dir = mkdtempSync(path.join(tmpdir(), 'bench-tap-'));
const now = new Date('2025-03-20T12:00:00Z');

function configFor(emu, extra) {
  const file = path.join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(emu.tapSettings({ token_store: path.join(dir, `tokens-${Math.random()}.json`), end_date: now.toISOString(), ...extra })));
  return file;
}

/** Runs the tap; counts stdout lines as they arrive. Resolves with timings; `stopAfterMs` kills it. */
function runTap(argv, onLine) {
  // bash's `times` reports the tap's CPU time: on a shared machine wall time alone says little.
  // detached: its own process group, so stopping it stops the tap under bash too.
  const child = spawn('bash', ['-c', '"$0" "$@"; rc=$?; times >&2; exit $rc', process.execPath, ...nodeArgs, cli, ...argv], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += b));
  let records = 0;
  let bytes = 0;
  let firstRecordAt;
  let tail = '';
  child.stdout.on('data', (chunk) => {
    bytes += chunk.length;
    const text = tail + chunk.toString('utf8');
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      if (text.startsWith('{"type":"RECORD","stream":"invoices"', start)) {
        records += 1;
        firstRecordAt ??= performance.now();
      }
      start = nl + 1;
    }
    tail = text.slice(start);
    onLine?.();
  });
  const started = performance.now();
  // The last line of `times`: the tap's user and system CPU seconds.
  const cpuSeconds = () => {
    const children =
      stderr
        .trim()
        .split('\n')
        .at(-1)
        .match(/(\d+)m([\d.]+)s/g) ?? [];
    const [user = 0, sys = 0] = children.map((t) => {
      const [, m, sec] = /(\d+)m([\d.]+)s/.exec(t);
      return Number(m) * 60 + Number(sec);
    });
    return { user, sys };
  };
  const done = new Promise((resolve) =>
    child.on('close', (code) => {
      const { user, sys } = cpuSeconds();
      resolve({ code, ms: performance.now() - started, records, bytes, firstRecordAt, lastAt: performance.now(), stderr, cpu: user + sys, user, sys });
    }),
  );
  return { child, done };
}

/** GETs are answered from a cache filled from `target` on first sight; the rest is passed through. */
async function cachingProxy(target) {
  const cache = new Map();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const server = http.createServer((req, res) => {
    const hit = req.method === 'GET' ? cache.get(req.url) : undefined;
    if (hit) return res.writeHead(200, hit.headers).end(hit.body);
    const headers = Object.fromEntries(
      ['authorization', 'accept', 'user-agent', 'content-type', 'x-include-refresh-token-hard-expires-in']
        .filter((h) => req.headers[h])
        .map((h) => [h, req.headers[h]]),
    );
    const upstream = http.request(new URL(req.url, target), { method: req.method, headers, agent }, (up) => {
      const parts = [];
      up.on('data', (b) => parts.push(b));
      up.on('end', () => {
        const body = Buffer.concat(parts);
        const headers = { 'content-type': up.headers['content-type'] ?? 'application/json', intuit_tid: up.headers.intuit_tid ?? 'cached' };
        if (req.method === 'GET' && up.statusCode === 200) cache.set(req.url, { headers, body });
        res.writeHead(up.statusCode ?? 502, headers).end(body);
      });
    });
    upstream.on('error', (error) => res.writeHead(502).end(String(error)));
    req.pipe(upstream);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)).finally(() => agent.destroy()),
    server,
  };
}

function invoicesOnlyCatalog() {
  const file = path.join(dir, 'invoices-catalog.json');
  writeFileSync(
    file,
    JSON.stringify({
      streams: [
        {
          tap_stream_id: 'invoices',
          stream: 'invoices',
          schema: { type: 'object', properties: {} },
          metadata: [{ breadcrumb: [], metadata: { selected: true } }],
        },
      ],
    }),
  );
  return file;
}

const results = [];
try {
  if (wanted('records')) {
    const invoices = 200_000;
    const emu = await startEmulator({ now, days: 20, counts: { invoices }, requestsPerMinute: 1_000_000 });
    const proxy = await cachingProxy(emu.baseUrl);
    const settings = {
      start_date: '2025-02-28T00:00:00Z',
      page_size: 1000,
      max_concurrency: 10,
      max_requests_per_minute: 100_000,
      base_url: proxy.url,
      token_url: emu.tokenUrl,
    };
    const catalog = invoicesOnlyCatalog();
    let r;
    for (const pass of ['fill the cache', 'measured']) {
      const config = configFor(emu, settings);
      r = await runTap(['--config', config, '--catalog', catalog]).done;
      if (r.code !== 0) throw new Error(`tap failed (${pass}): ${r.stderr.split('\n').find((l) => l.startsWith('FATAL'))}`);
    }
    await proxy.close();
    const streaming = (r.lastAt - r.firstRecordAt) / 1000;
    const rate = (n, s) => Math.round(n / s).toLocaleString('en-US');
    results.push([
      'records',
      `${r.records.toLocaleString('en-US')} invoices (${(r.bytes / r.records / 1024).toFixed(1)} KiB per RECORD line), 1000-row pages, 0 ms latency`,
      `${rate(r.records, r.cpu)} records per tap CPU second (${r.cpu.toFixed(1)} s CPU: ${r.user.toFixed(1)} user, ${r.sys.toFixed(1)} sys); wall: ${rate(r.records, r.ms / 1000)} records/s over the whole run (${(r.ms / 1000).toFixed(1)} s incl. start-up), ${rate(r.records, streaming)} records/s from first to last record`,
    ]);
    await emu.close();
  }
  if (wanted('rate')) {
    // Enough invoices that the run outlasts the measurement: a year of them is about 1,200 page requests.
    const emu = await startEmulator({ now, days: 365, counts: { invoices: 120_000 }, latencyMs: 300, requestsPerMinute: 500 });
    const config = configFor(emu, { start_date: '2024-03-20T00:00:00Z' });
    const apiRequests = () => emu.requestLog().filter((e) => e.kind === 'query' || e.kind === 'count').length;
    const { child, done } = runTap(['--config', config, '--catalog', invoicesOnlyCatalog()]);
    while (emu.stats().requests < 2) await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    const before = apiRequests();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const elapsed = (performance.now() - t0) / 1000;
    const count = apiRequests() - before;
    if (child.exitCode !== null) throw new Error(`the tap finished within the ${seconds} s measured: give it more rows`);
    process.kill(-child.pid, 'SIGTERM');
    await done;
    const perMinute = (count / elapsed) * 60;
    results.push([
      'rate',
      `300 ms latency, emulator limit 500/min, ${elapsed.toFixed(0)} s from the first query`,
      `${perMinute.toFixed(0)} requests/min (${((perMinute / 500) * 100).toFixed(1)} % of 500), ${emu.stats().throttled} × 429`,
    ]);
    await emu.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
for (const [name, setup, figure] of results) process.stdout.write(`tap ${name}: ${setup}: ${figure}\n`);
