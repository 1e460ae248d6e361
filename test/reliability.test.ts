import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { runBackfill, type BackfillHooks, type BackfillRequest, type BackfillResult } from '../packages/qbo-pipeline/src/index.js';
import { startLocalPostgres } from 'local-postgres';
import { Rng } from 'qbo-emulator';
import { databaseUrl, scratchSchema, withClient } from './support/db.js';
import { diffWithTruth, loggedHooks, suiteHarness } from './pipelineHarness.js';

/**
 * Crash trials: kill -9 of the tap, the target or both at seeded random points of a 3-stream
 * backfill, resume with the runner, and require the raw tables to equal the emulator's truth.
 */
const STREAMS = ['invoices', 'customers', 'items'] as const;
const START = '2025-06-01T00:00:00Z';
const END = '2025-06-07T00:00:00Z';
const SETS = 3;
const KILLS_PER_SET = 7;
const VICTIMS = ['tap', 'target', 'both'] as const;

const { hooks: quiet } = loggedHooks();

const h = suiteHarness({
  seed: 5,
  now: new Date(END),
  days: 6,
  counts: { invoices: 240, customers: 60, items: 30 },
  // Spans of at most 40 rows (about a day of invoices): many commits for the kills to land between.
  tap: { page_size: 20, max_span_rows: 40 },
  // A little latency per request spreads a run over enough time for the kill points to land inside it.
  latencyMs: 5,
});

async function request(schema: string, job: string, fresh: boolean, url = databaseUrl()): Promise<BackfillRequest> {
  const targetConfig =
    url === databaseUrl()
      ? await h.targetConfig(schema, { batch_size_rows: 25 })
      : await h.targetConfig(`${schema}-other`, { database_url: url, schema, batch_size_rows: 25 });
  return { job, streams: STREAMS, start: START, end: END, fresh, tapConfig: h.tapConfig, targetConfig, stateDir: path.join(h.dir, 'state') };
}

/** Resumes until the runner reports success (a kill can land between a commit and the run's end). */
async function resumeToEnd(req: BackfillRequest, hooks: BackfillHooks = quiet): Promise<BackfillResult> {
  let result: BackfillResult | undefined;
  for (let attempt = 0; attempt < 3 && !result?.ok; attempt++) result = await runBackfill({ ...req, fresh: false }, hooks);
  expect(result?.ok, result?.failure?.reason).toBe(true);
  return result!;
}

async function expectTruth(schema: string, url = databaseUrl()) {
  for (const stream of STREAMS) {
    const diff = await diffWithTruth(url, schema, h.emulator, stream, START, END);
    expect({ stream, missing: diff.missing, extra: diff.extra, different: diff.different }).toEqual({ stream, missing: [], extra: [], different: [] });
    expect(diff.rows).toBe(diff.expected);
  }
}

describe('reliability: kill -9 at random points, then resume', () => {
  const found: string[] = [];
  afterAll(() => {
    // The note the issue asks for: what the trials did and found.
    process.stderr.write(`reliability trials:\n  ${found.join('\n  ')}\n`);
  });

  for (let set = 0; set < SETS; set++) {
    const schema = scratchSchema(`rel${set}`);
    // Kills and resumes of real processes: 20 s alone on a loaded 2-core machine; beside another test file, more than the default minute.
    it(`trial set ${set + 1}: ${KILLS_PER_SET} kills then a resume give exactly the emulator's truth`, { timeout: 180_000 }, async () => {
      const rng = new Rng(1000 + set); // seeded: a failing set can be replayed
      const job = `reliability_${set}`;
      let killed = 0;
      for (let trial = 0; trial < KILLS_PER_SET; trial++) {
        const victim = rng.pick(VICTIMS);
        const afterStates = rng.int(0, 2);
        const delayMs = rng.int(0, 199);
        let states = -1; // onProgress fires once before any commit
        let children: Readonly<Record<'tap' | 'target', ChildProcess>> | undefined;
        let landed = false;
        const kill = () => {
          for (const role of victim === 'both' ? (['tap', 'target'] as const) : [victim]) {
            const child = children?.[role];
            if (child && child.exitCode === null && child.signalCode === null) landed = child.kill('SIGKILL') || landed;
          }
        };
        const result = await runBackfill(await request(schema, job, trial === 0), {
          ...quiet,
          onSpawn: (spawned) => {
            children = spawned;
            if (afterStates === 0) setTimeout(kill, delayMs);
          },
          onProgress: () => {
            if (++states === afterStates && afterStates > 0) setTimeout(kill, delayMs);
          },
        });
        if (landed) killed++;
        found.push(
          `set ${set + 1} trial ${trial + 1}: kill -9 ${victim} after ${afterStates} commits + ${delayMs} ms → ${landed ? `run ${result.ok ? 'still finished' : `failed (${result.failure?.reason})`}` : 'run finished before the kill'}`,
        );
      }
      await resumeToEnd(await request(schema, job, false));
      await expectTruth(schema);
      const evidence = await withClient((c) =>
        c.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE NOT extracted_equals_loaded)::int AS bad FROM "${schema}".evidence`),
      );
      expect(evidence.rows[0].bad).toBe(0);
      // A trial whose run ended before its kill still counts as a resume, but most must land.
      expect(killed).toBeGreaterThanOrEqual(KILLS_PER_SET - 3);
    });
  }
});

describe('reliability: PostgreSQL and the QBO API misbehave', () => {
  it('a PostgreSQL restart mid-run: the target reconnects and the run completes exactly', async () => {
    const pg = await startLocalPostgres({ version: '13', fast: true });
    try {
      const schema = 'restart';
      let states = -1;
      let restarting: Promise<void> | undefined;
      const first = await runBackfill(await request(schema, 'pg_restart', true, pg.url), {
        ...quiet,
        onProgress: () => {
          if (++states === 2) restarting = pg.restart();
        },
      });
      await restarting;
      expect(restarting).toBeDefined();
      expect(first.failure).toBeUndefined();
      expect(first.ok).toBe(true);
      await expectTruth(schema, pg.url);
    } finally {
      await pg.stop();
    }
  });

  it('faults from the QBO API during a multi-stream backfill are retried and cost nothing', async () => {
    const schema = scratchSchema('faults');
    const before = h.emulator.stats().faults;
    h.emulator.setFaults({
      seed: 9,
      rules: [
        { fault: '503', kinds: ['query', 'count'], probability: 0.1 },
        { fault: '500', kinds: ['count'], probability: 0.05 },
        { fault: 'reset', kinds: ['query'], probability: 0.03 },
      ],
    });
    try {
      const result = await runBackfill(await request(schema, 'faults', true), quiet);
      expect(result.ok, result.failure?.reason).toBe(true);
    } finally {
      h.emulator.setFaults({ rules: [] });
    }
    const injected = Object.entries(h.emulator.stats().faults).reduce((n, [k, v]) => n + v - (before[k] ?? 0), 0);
    expect(injected).toBeGreaterThan(0);
    await expectTruth(schema);
    const evidence = await withClient((c) =>
      c.query(`SELECT sum(retries)::int AS retries, bool_and(extracted_equals_loaded) AS equal FROM "${schema}".evidence`),
    );
    expect(evidence.rows[0]).toMatchObject({ equal: true });
    expect(evidence.rows[0].retries).toBeGreaterThan(0);
  });
});
