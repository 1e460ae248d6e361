import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runDemo, DEMO_COUNTS, DEMO_DAYS, DEMO_QUERIES } from 'qbo-demo';
import { databaseUrl, scratchSchema, withClient } from './support/db.js';

const dir = await mkdtemp(path.join(tmpdir(), 'demo-test-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('npm run demo', () => {
  const schema = scratchSchema('demo');

  it('backfills 30 days of invoices, customers and items, shows the volumetry, and a re-run changes no row', async () => {
    const lines: string[] = [];
    const seen: { runs?: string; evidence?: string; overview?: string; url?: string } = {};
    const began = Date.now();
    const code = await runDemo({
      dataDir: dir,
      databaseUrl: databaseUrl(),
      schema,
      keepRunning: false,
      consolePort: 0,
      out: (text) => lines.push(text),
      onConsole: async (url) => {
        seen.url = url;
        seen.runs = await (await fetch(`${url}runs`)).text();
        seen.evidence = await (await fetch(`${url}evidence`)).text();
        seen.overview = await (await fetch(url)).text();
      },
    });
    const text = lines.join('\n');
    expect(code, text).toBe(0);
    // It ends with the console's URL, and the console showed the demo's two runs and their evidence.
    expect(lines.at(-1)).toBe(`Console: ${seen.url} (it stopped with the demo; npm run demo -- --keep-running keeps it up until Ctrl-C)`);
    expect(
      seen.runs?.match(/<tr data-run="run-[^"]+"[^>]*>[\s\S]*?<span class="pill ok">succeeded<\/span>[\s\S]*?<span class="muted job">demo<\/span>/g),
    ).toHaveLength(2);
    expect(seen.evidence).toContain('<span class="pill ok">all loaded</span>');
    // The range the demo printed: 30 whole UTC days from a midnight and today's part, a window each, so the
    // days it counts (30.38) and its windows (31) agree; and it ends end_lag (5 min) before the demo began, as a sync
    // does, so that right after it each bookmark is that far behind, on time, not the time since the hour.
    const [, from, to] = /: \[(\S+), (\S+)\)/.exec(text) ?? [];
    expect(text).toContain(`over the last ${DEMO_DAYS} whole UTC days and today up to end_lag (PT5M) ago, one window per UTC day: [${from}, ${to})`);
    const DAY_MS = 86_400_000;
    expect(Date.parse(from!) % DAY_MS).toBe(0);
    expect(Date.parse(to!)).toBeGreaterThanOrEqual(Math.floor((began - 5 * 60_000) / 1000) * 1000);
    const touched = (Math.ceil(Date.parse(to!) / DAY_MS) - Math.floor(Date.parse(from!) / DAY_MS)).toString();
    expect(touched).toBe(String(DEMO_DAYS + 1));
    const days = Math.round(((Date.parse(to!) - Date.parse(from!)) / DAY_MS) * 100) / 100;
    expect(seen.evidence).toContain(`${3 * Number(touched)} stream-days`);
    expect(text).toMatch(
      new RegExp(
        `invoices\\s+\\| ${days}/${days} days\\s+\\|\\s+${touched} \\|\\s+${DEMO_COUNTS.invoices} \\|\\s+${DEMO_COUNTS.invoices} \\|\\s+${DEMO_COUNTS.invoices} \\|\\s+${DEMO_COUNTS.invoices} \\|`,
      ),
    );
    // The console's overview: each stream's bookmark is the range's end, and its freshness minutes, not marked stale.
    const invoices = /<tr data-stream="invoices">([\s\S]*?)<\/tr>/.exec(seen.overview ?? '')?.[1] ?? '';
    expect(invoices).toContain(`<time datetime="${to}"`);
    expect(invoices).toMatch(/<td class="num">[5-9] min \d+ s<\/td>/);
    expect(text).toMatch(/Volumetry per UTC day[^\n]*\nday_utc\s+\| stream\s+\| qbo_count/);
    // Each stream's range is one query (fewer rows than max_span_rows): its pages and time on the first day, the
    // other days naming it, not reading `pages 0` as if nothing had been fetched for them.
    const perDay = text.slice(text.indexOf('Volumetry per UTC day'), text.indexOf('2) The same window'));
    const firstDay = from!.slice(0, 10);
    expect(perDay).toMatch(new RegExp(`\\n${firstDay} \\| invoices\\s+\\|[^\\n]*\\| query of ${touched} days from here: \\d+ pages? in [^|]+\\| yes\\n`));
    expect(perDay.match(/\| in the query from /g)?.length).toBe(3 * (Number(touched) - 1) - (perDay.match(/\| no records in the query from /g)?.length ?? 0));
    expect(perDay).toMatch(
      /\nday_utc\s+\| stream\s+\| qbo_count\s+\| extracted\s+\| loaded\s+\| inserted\s+\| updated\s+\| unchanged\s+\| read\s+\| extracted_equals_loaded\n/,
    );
    const total = DEMO_COUNTS.invoices + DEMO_COUNTS.customers + DEMO_COUNTS.items;
    expect(text).toContain(`Second run: 0 rows inserted or updated, ${total} unchanged.`);
    expect(text).toContain(`FROM ${schema}.invoices ORDER BY last_updated_utc DESC LIMIT 5;`);
    const rows = await withClient((c) =>
      c.query(
        `SELECT (SELECT count(*) FROM "${schema}".invoices)::int AS invoices, (SELECT count(*) FROM "${schema}".customers)::int AS customers, (SELECT count(*) FROM "${schema}".items)::int AS items`,
      ),
    );
    expect(rows.rows[0]).toEqual(DEMO_COUNTS);
    // The queries the demo suggests run, and the evidence one counts the newest run only (the
    // demo runs twice, so summing every run would double QBO's count).
    const results = await withClient(async (c) => {
      const out = [];
      for (const q of DEMO_QUERIES) out.push((await c.query(q.replaceAll('raw.', `"${schema}".`))).rows);
      return out;
    });
    expect(results[0]!.map((r) => [r.stream, Number(r.qbo), Number(r.loaded), r.all_equal]).sort()).toEqual(
      Object.entries(DEMO_COUNTS)
        .map(([stream, n]) => [stream, n, n, true])
        .sort(),
    );
    expect(results[1]).toHaveLength(5);
    expect(results[2]).toHaveLength(5);
  });
});
