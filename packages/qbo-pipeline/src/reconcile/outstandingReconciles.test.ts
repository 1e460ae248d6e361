import { describe, expect, it } from 'vitest';
import { outstandingReconciles, type ReconcileRunFacts } from './outstandingReconciles.js';

const CMD = 'node cli.js reconcile --companies companies.yaml --company acme --job daily --streams customers,invoices';
let clock = 0;
/** Runs in the order given, an hour apart. */
const at = () => new Date(Date.UTC(2025, 0, 1) + clock++ * 3_600_000).toISOString();
/** A succeeded run of job daily of acme, the next hour; `sync` and `advising` over three streams. */
const run = (id: string, kind: ReconcileRunFacts['kind'], streams: readonly string[], extra: Partial<ReconcileRunFacts>): ReconcileRunFacts => ({
  id,
  kind,
  job: 'daily',
  company: 'acme',
  status: 'succeeded',
  startedAt: at(),
  streams,
  ...extra,
});
const STREAMS = ['customers', 'invoices', 'items'];
const sync = (id: string, extra: Partial<ReconcileRunFacts> = {}) => run(id, 'sync', STREAMS, extra);
const advising = (id: string, extra: Partial<ReconcileRunFacts> = {}) =>
  sync(id, { reconcileCommand: CMD, reconcileStreams: ['customers', 'invoices'], ...extra });
const reconcile = (id: string, streams: readonly string[], extra: Partial<ReconcileRunFacts> = {}) => run(id, 'reconcile', streams, extra);
/** The rule sees runs newest first, as the journal lists them; it must not depend on it. */
const rule = (oldestFirst: readonly ReconcileRunFacts[]) => {
  const newestFirst = outstandingReconciles([...oldestFirst].reverse());
  expect(outstandingReconciles(oldestFirst)).toEqual(newestFirst);
  return newestFirst;
};

describe('outstandingReconciles', () => {
  it('lists a run’s advice, with its exact command and the streams it names, until a reconcile does it', () => {
    const advice = advising('r1');
    expect(rule([advice, sync('r2'), sync('r3')])).toEqual([
      { runId: 'r1', job: 'daily', company: 'acme', advisedAt: advice.startedAt, command: CMD, streams: ['customers', 'invoices'] },
    ]);
  });

  it('is done by a later succeeded reconcile of the same job and company taking every stream it names (more streams are fine)', () => {
    expect(rule([advising('r1'), reconcile('r2', ['customers', 'invoices', 'items'])])).toEqual([]);
  });

  it('is done stream by stream: two reconciles together do it, one alone leaves the other stream', () => {
    const first = [advising('r1'), reconcile('r2', ['invoices'])];
    expect(rule(first).map((o) => o.streams)).toEqual([['customers']]);
    expect(rule([...first, reconcile('r3', ['customers'])])).toEqual([]);
  });

  it('is not done by a dry run, a failed or running reconcile, a reconcile of another job or company, or one from before the advice', () => {
    const before = reconcile('r0', ['customers', 'invoices']);
    const runs = [
      before,
      advising('r1'),
      reconcile('r2', ['customers', 'invoices'], { dryRun: true }),
      reconcile('r3', ['customers', 'invoices'], { status: 'failed' }),
      reconcile('r4', ['customers', 'invoices'], { status: 'running' }),
      reconcile('r5', ['customers', 'invoices'], { job: 'weekly' }),
      reconcile('r6', ['customers', 'invoices'], { company: 'globex' }),
    ];
    expect(rule(runs).map((o) => o.runId)).toEqual(['r1']);
  });

  it('is not done by a backfill, even a whole --fresh one: it leaves the rows of deleted records as they were', () => {
    expect(rule([advising('r1'), sync('r2', { kind: 'backfill', streams: ['customers', 'invoices', 'items'] })]).map((o) => o.runId)).toEqual(['r1']);
  });

  it('an advice whose streams a newer advice of the job names is left out: the newer command does both', () => {
    const runs = [advising('r1', { reconcileStreams: ['invoices'] }), advising('r2')];
    expect(rule(runs).map((o) => [o.runId, o.streams])).toEqual([['r2', ['customers', 'invoices']]]);
    // …but not when the newer one lacks a stream the older still needs, nor for another job.
    const apart = [advising('r3'), advising('r4', { reconcileStreams: ['invoices'] }), advising('r5', { job: 'weekly' })];
    expect(rule(apart).map((o) => o.runId)).toEqual(['r5', 'r4', 'r3']);
  });

  it('a failed run’s advice counts too (the gap was there), and a record from before reconcileStreams counts the run’s streams', () => {
    const { reconcileStreams: _none, ...old } = advising('r1', { status: 'failed' });
    expect(rule([old, reconcile('r2', ['customers', 'invoices'])]).map((o) => o.streams)).toEqual([['items']]);
  });

  it('without companies (company absent on both sides) the job alone matches', () => {
    const { company: _a, ...advice } = advising('r1');
    const { company: _b, ...done } = reconcile('r2', ['customers', 'invoices']);
    expect(rule([advice, done])).toEqual([]);
  });
});
