// Emulator benchmark: a company with 1,000,000 invoices (generation time and memory), then one
// page of 1000 at a random offset and a COUNT(*) for one UTC day, over real HTTP.
// Run after a build: node bench/emulator.mjs [invoices]
import { startEmulator } from '../packages/qbo-emulator/dist/index.js';

const invoices = Number(process.argv[2] ?? 1_000_000);
const now = new Date('2025-03-20T12:00:00Z');
const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const rows = [];
const time = async (label, fn) => {
  const t0 = performance.now();
  const result = await fn();
  rows.push([label, `${(performance.now() - t0).toFixed(0)} ms`]);
  return result;
};

const rssBefore = process.memoryUsage().rss;
const emu = await time(`generate company (${invoices.toLocaleString('en-US')} invoices, 90 days)`, () =>
  startEmulator({ now, days: 90, counts: { invoices } }),
);
globalThis.gc?.();
const { rss, heapUsed, arrayBuffers } = process.memoryUsage();

const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: emu.currentRefreshToken() });
const auth = `Basic ${Buffer.from(`${emu.clientId}:${emu.clientSecret}`).toString('base64')}`;
const token = await (await fetch(emu.tokenUrl, { method: 'POST', headers: { authorization: auth }, body: form })).json();
const query = async (text) => {
  const res = await fetch(`${emu.baseUrl}/v3/company/${emu.realmId}/query?minorversion=75&query=${encodeURIComponent(text)}`, {
    headers: { authorization: `Bearer ${token.access_token}`, accept: 'application/json' },
  });
  return res.text();
};

// Fixed pseudo-random offsets keep runs comparable; the first query also pays for JIT warm-up.
const offsets = [0.618, 0.141, 0.732, 0.414, 0.271, 0.9].map((f) => 1 + Math.floor((invoices * f) / 1000) * 1000);
const pageTimes = [];
let page;
for (const at of offsets) {
  const t0 = performance.now();
  page = await query(`SELECT * FROM Invoice ORDERBY MetaData.LastUpdatedTime STARTPOSITION ${at} MAXRESULTS 1000`);
  pageTimes.push(performance.now() - t0);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
rows.push(['one page of 1000 at a random offset, first (cold)', `${pageTimes[0].toFixed(0)} ms`]);
rows.push([`one page of 1000 at a random offset, median of next ${offsets.length - 1}`, `${median(pageTimes.slice(1)).toFixed(0)} ms`]);
// The same pages as the server saw them (request log), without the client's download and decode.
const served = emu
  .requestLog()
  .filter((e) => e.kind === 'query')
  .map((e) => e.durationMs);
rows.push(['  of which server time, median', `${median(served.slice(1)).toFixed(0)} ms`]);
const windowed = `WHERE MetaData.LastUpdatedTime >= '2025-03-01T00:00:00Z' AND MetaData.LastUpdatedTime < '2025-03-02T00:00:00Z'`;
const count = await time('COUNT(*) for one UTC day', () => query(`SELECT COUNT(*) FROM Invoice ${windowed}`));
const total = JSON.parse(count).QueryResponse.totalCount;
await time(`last page of 1000 in that day (${total} rows)`, () =>
  query(`SELECT * FROM Invoice ${windowed} ORDERBY MetaData.LastUpdatedTime STARTPOSITION ${Math.max(1, total - 999)} MAXRESULTS 1000`),
);
rows.push(['page size', `${(page.length / 1024).toFixed(0)} KiB, ${JSON.parse(page).QueryResponse.maxResults} rows`]);
rows.push(['RSS after generation (before → after)', `${mb(rssBefore)} → ${mb(rss)} (JS heap ${mb(heapUsed)}, typed arrays ${mb(arrayBuffers)})`]);
await emu.close();

const width = Math.max(...rows.map(([l]) => l.length));
for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`);
