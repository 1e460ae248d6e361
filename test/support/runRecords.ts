import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunRecord } from '../../packages/qbo-pipeline/src/runs/RunRecord.js';

/**
 * Writes a run record into `stateDir`'s runs journal as a runner would have left it, for console
 * tests that need a run no runner could make on cue (one from another host, one whose runner died).
 * Unless `fields` say otherwise: a running sync of job `nightly` over invoices for 2025-01-01, by
 * pid 4242 on another host, started and last heard from now, with nothing committed.
 */
export async function writeRunRecord(stateDir: string, fields: Partial<RunRecord> & Pick<RunRecord, 'id'>): Promise<RunRecord> {
  const runs = path.join(stateDir, 'runs');
  await mkdir(runs, { recursive: true });
  const job = fields.job ?? 'nightly';
  const range = fields.range ?? { start: '2025-01-01T00:00:00Z', end: '2025-01-02T00:00:00Z' };
  const now = new Date().toISOString();
  const record: RunRecord = {
    kind: 'sync',
    job,
    streams: ['invoices'],
    range,
    attempt: 1,
    pid: 4242,
    host: 'another-host',
    startedAt: now,
    updatedAt: fields.startedAt ?? now,
    status: 'running',
    progress: [{ stream: 'invoices', doneUntil: range.start, daysDone: 0, totalDays: 1, complete: false }],
    tapRunIds: [],
    stateFile: path.join(stateDir, `${job}.json`),
    logFile: path.join(runs, `${fields.id}.log`),
    ...fields,
  };
  await writeFile(path.join(runs, `${record.id}.json`), JSON.stringify(record));
  return record;
}
