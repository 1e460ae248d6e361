import { afterAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { REPO_ROOT, withClient } from './support/db.js';
import { codeBlocks, documentedFailure, shellWalk, substituteDocumented, type CodeBlock } from './docsHarness.js';
import { userEnv } from './support/runProcess.js';

/**
 * An accounting firm's three companies, word for word: the shell blocks of docs/companies.md run
 * in document order, as written, in a fresh folder holding the repository's `packages/` and
 * `bin/`, with a shell that has none of the plugins' variables. Each block succeeds, or fails as
 * it says (`# exit status N`). Then each company's schema holds exactly its company's records.
 *
 * The documented substitutions, and nothing else: `npm install && npm run build` is skipped (the
 * suite runs on a built checkout); the example database URL is the test PostgreSQL; the schemas
 * raw_acme, raw_globex and raw_initech get a prefix of this run (the database may be yours), and
 * so does the schema of `views` (`--schema <prefix>_all`).
 */
const DOC = 'docs/companies.md';
const COMPANIES = ['acme', 'globex', 'initech'] as const;
const prefix = `walk_${Math.random().toString(16).slice(2, 8)}`;
const schemaOf = (name: string) => `${prefix}_${name}`;
/** The views' schema of this run (the documented default, qbo_all, may be the database's own). */
const VIEWS = `${prefix}_all`;

const work = mkdtempSync(path.join(tmpdir(), 'firm-walk-'));
for (const dir of ['packages', 'bin']) symlinkSync(path.join(REPO_ROOT, dir), path.join(work, dir));
const envFile = path.join(work, '.walk-env');
afterAll(async () => {
  // The walk stops its emulator itself; if it failed before that, stop it here.
  const pid = path.join(work, 'emulator.pid');
  if (existsSync(pid)) {
    try {
      process.kill(Number(readFileSync(pid, 'utf8')), 'SIGTERM');
    } catch {
      // already stopped
    }
  }
  await withClient((c) => c.query([...COMPANIES.map(schemaOf), VIEWS].map((s) => `DROP SCHEMA IF EXISTS ${s} CASCADE;`).join('\n')));
  rmSync(work, { recursive: true, force: true });
});

function substitute(block: CodeBlock): string {
  let text = substituteDocumented(block.text);
  for (const name of COMPANIES) text = text.replaceAll(`raw_${name}`, schemaOf(name));
  return text.replace(/ views --companies companies\.yaml/g, `$& --schema ${VIEWS}`);
}

const runBlock = shellWalk({ dir: work, envFile, env: userEnv(), background: 'kept' });

/**
 * How long to wait before the walk's `scheduler --once` so that no company schedule of the file
 * (`schedule: {cron: "M H * * *", tz: …}`) comes due while it runs: that nightly sync would load
 * records past the walk's range. 0 unless a slot falls within the next `windowMs`.
 */
function untilSchedulesPassed(fileText: string, now: DateTime, windowMs: number): number {
  let wait = 0;
  for (const [, minute, hour, zone] of fileText.matchAll(/schedule: \{cron: "(\d+) (\d+) \* \* \*", tz: ([\w/]+)\}/g)) {
    const local = now.setZone(zone);
    let slot = local.set({ hour: Number(hour), minute: Number(minute), second: 0, millisecond: 0 });
    if (slot < local) slot = slot.plus({ days: 1 });
    const until = slot.toMillis() - now.toMillis();
    if (until < windowMs) wait = Math.max(wait, until + 5_000);
  }
  return wait;
}

describe('docs/companies.md, word for word', () => {
  it('waits out a nightly slot that would fall inside the scheduler step, and only then', () => {
    const file = 'schedule: {cron: "15 3 * * *", tz: America/New_York}';
    const at = (iso: string) => DateTime.fromISO(iso, { setZone: true });
    // 03:15 in New York on 2025-02-01 is 08:15 UTC.
    expect(untilSchedulesPassed(file, at('2025-02-01T08:12:00Z'), 5 * 60_000)).toBe(3 * 60_000 + 5_000);
    expect(untilSchedulesPassed(file, at('2025-02-01T08:05:00Z'), 5 * 60_000)).toBe(0);
    expect(untilSchedulesPassed(file, at('2025-02-01T08:16:00Z'), 5 * 60_000)).toBe(0);
    expect(untilSchedulesPassed(readFileSync(DOC, 'utf8'), at('2025-02-01T08:14:00Z'), 5 * 60_000)).toBe(60_000 + 5_000);
  });

  it('three companies from one companies file: backfill, evidence, one company revoked alone, reconnected, complete', { timeout: 900_000 }, async () => {
    const blocks = codeBlocks(DOC).filter((b) => b.lang === 'sh');
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    const truth = new Map<string, Map<string, Set<string>>>();
    let schedulerSteps = 0;
    for (const [i, block] of blocks.entries()) {
      if (i === blocks.length - 1) {
        // Before the last block stops the emulator: every company's records, by stream.
        const { admin_url: admin, companies } = JSON.parse(readFileSync(path.join(work, 'emulator.json'), 'utf8')) as {
          admin_url: string;
          companies: Array<{ name: string; realm_id: string }>;
        };
        for (const c of companies) {
          const streams = new Map<string, Set<string>>();
          for (const stream of ['invoices', 'customers', 'payments']) {
            const rows = (await (await fetch(`${admin}truth?stream=${stream}&realm_id=${c.realm_id}`)).json()) as Array<{ id: string; lastUpdated: string }>;
            streams.set(
              stream,
              new Set(
                rows
                  .filter(
                    (r) => Date.parse(r.lastUpdated) >= Date.parse('2025-01-29T00:00:00Z') && Date.parse(r.lastUpdated) < Date.parse('2025-02-01T00:00:00Z'),
                  )
                  .map((r) => r.id),
              ),
            );
          }
          truth.set(c.name, streams);
        }
      }
      const failure = documentedFailure(block.text);
      if (/ scheduler .*--once/.test(block.text)) {
        schedulerSteps += 1;
        await sleep(untilSchedulesPassed(readFileSync(DOC, 'utf8'), DateTime.now(), 2 * 60_000));
      }
      const run = await runBlock(substitute(block), failure === undefined);
      const where = `${block.file}:${block.line}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
      expect(run.code, where).toBe(failure?.exit ?? 0);
      if (failure) {
        // The revoked company fails alone; the others load.
        expect(run.stdout, where).toMatch(/3 companies: 2 ok, 1 failed/);
        expect(run.stdout, where).toMatch(/globex: fix this first, then run again: tap-quickbooks: QuickBooks rejected the refresh token \(invalid_grant/);
      }
    }
    expect(schedulerSteps).toBe(1);
    // Each company's schema holds exactly its records of the range (every company has an Invoice "1").
    await withClient(async (c) => {
      for (const name of COMPANIES) {
        const realm = await c.query(`SELECT realm_id FROM ${schemaOf(name)}._company`);
        expect(realm.rows).toHaveLength(1);
        for (const [stream, ids] of truth.get(name) ?? []) {
          const rows = await c.query<{ id: string; realm_id: string }>(`SELECT id, realm_id FROM ${schemaOf(name)}.${stream}`);
          expect({ name, stream, ids: rows.rows.map((r) => r.id).sort() }).toEqual({ name, stream, ids: [...ids].sort() });
          expect(new Set(rows.rows.map((r) => r.realm_id))).toEqual(new Set([realm.rows[0].realm_id]));
          expect(ids.size).toBeGreaterThan(0);
        }
      }
      const invoiceOne = await c.query(
        `SELECT count(DISTINCT payload::text)::int AS n FROM (${COMPANIES.map((n) => `SELECT payload FROM ${schemaOf(n)}.invoices WHERE id = '1'`).join(' UNION ALL ')}) x`,
      );
      expect(invoiceOne.rows[0].n).toBe(3);
      // The views `views` made over the three companies read every company's rows, each under its name.
      const viewed = await c.query<{ row: string }>(`SELECT company || '/' || id AS row FROM ${VIEWS}.invoices`);
      expect(viewed.rows.map((r) => r.row).sort()).toEqual(
        COMPANIES.flatMap((n) => [...(truth.get(n)?.get('invoices') ?? [])].map((id) => `${n}/${id}`)).sort(),
      );
    });
    // The trigger of globex failed with what to fix; the others completed; its state and token store are its own.
    for (const name of COMPANIES) {
      const folder = path.join(work, 'state/companies', name);
      const [trigger] = readdirSync(path.join(folder, 'triggers'))
        .filter((f) => f.endsWith('.json'))
        .map((f) => JSON.parse(readFileSync(path.join(folder, 'triggers', f), 'utf8')));
      expect(trigger.status).toBe(name === 'globex' ? 'failed' : 'completed');
      expect(readdirSync(path.join(folder, 'tokens'))).toHaveLength(1);
    }
  });
});
