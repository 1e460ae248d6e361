import { describe, expect, it } from 'vitest';
import { formatInstant } from 'singer-kit';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ENTITIES } from 'qbo-catalog';
import { defaultJob, normaliseBackfill, resolveBackfill, resolveStreams, resumeCommand } from './BackfillRequest.js';

const base = { streams: ['invoices', 'customers'], start: '2025-01-01', end: '2025-02-01T00:00:00Z' };

describe('resolveBackfill', () => {
  it('keeps paths outside the working directory absolute in the resume command', () => {
    const r = resolveBackfill({ ...base, tapConfig: '/etc/qbo/tap.json' }, '/home/me');
    expect(resumeCommand(r, '/repo/packages/qbo-pipeline/dist/cli.js', '/home/me')).toMatch(
      /^node \/repo\/packages\/qbo-pipeline\/dist\/cli\.js backfill .* --tap-config \/etc\/qbo\/tap\.json$/,
    );
  });

  it('fills the job name (the stream set, alphabetical: backfill and sync share it), state file and UTC range', () => {
    const r = resolveBackfill(base, '/repo');
    expect(r.job).toBe('qb_customers_invoices');
    expect(r.stateFile).toBe('/repo/state/qb_customers_invoices.json');
    expect([formatInstant(r.start), formatInstant(r.end)]).toEqual(['2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z']);
    expect(r.fresh).toBe(false);
  });

  it.each([
    [{ ...base, streams: [] }, /--streams: name at least one stream/],
    [{ ...base, streams: ['invoices', 'invoice'] }, /--streams: unknown stream "invoice"; known streams: .*invoices/],
    [{ ...base, end: '2025-01-01' }, /--end \(2025-01-01T00:00:00Z\) must be after --start/],
    [{ ...base, start: '2025-01-01T05:00:00' }, /--start: .* no time zone/],
    [{ ...base, job: '../escape' }, /--job: "..\/escape" may hold only/],
  ])('refuses bad arguments (%#)', (request, message) => {
    expect(() => resolveBackfill(request, '/repo')).toThrow(message);
  });

  it('normalises for storage: absolute paths, UTC instants', () => {
    const r = resolveBackfill({ ...base, start: '2025-01-01T00:00:00-05:00', tapConfig: 'tap.json', stateDir: 'st' }, '/repo');
    expect(normaliseBackfill(r)).toEqual({
      streams: ['invoices', 'customers'],
      start: '2025-01-01T05:00:00Z',
      end: '2025-02-01T00:00:00Z',
      job: 'qb_customers_invoices',
      tapConfig: '/repo/tap.json',
      stateDir: '/repo/st',
    });
  });

  it('builds the resume command a person can paste, without --fresh', () => {
    const r = resolveBackfill({ ...base, fresh: true, targetConfig: 'my dir/target.json' }, '/repo');
    expect(resumeCommand(r, '/repo/packages/qbo-pipeline/dist/cli.js', '/repo')).toBe(
      "node packages/qbo-pipeline/dist/cli.js backfill --job qb_customers_invoices --streams invoices,customers --start 2025-01-01T00:00:00Z --end 2025-02-01T00:00:00Z --target-config 'my dir/target.json'",
    );
  });

  it('says --streams all in the resume command of a run of every stream, as it was typed', () => {
    const r = resolveBackfill({ ...base, streams: resolveStreams(['all']) }, '/repo');
    expect(resumeCommand(r, '/repo/packages/qbo-pipeline/dist/cli.js', '/repo')).toBe(
      'node packages/qbo-pipeline/dist/cli.js backfill --job qb_all --streams all --start 2025-01-01T00:00:00Z --end 2025-02-01T00:00:00Z',
    );
  });
});

describe('defaultJob', () => {
  it('is the same for any order of the streams', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jobs-'));
    expect(defaultJob(['items', 'invoices'], dir)).toBe('qb_invoices_items');
    expect(defaultJob(['invoices', 'items'], dir)).toBe('qb_invoices_items');
  });

  it('keeps using the state file an earlier version named qb_<streams as typed>_backfill, until the new one exists', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jobs-'));
    writeFileSync(path.join(dir, 'qb_items_invoices_backfill.json'), '{}');
    expect(defaultJob(['items', 'invoices'], dir)).toBe('qb_items_invoices_backfill');
    expect(defaultJob(['invoices', 'items'], dir)).toBe('qb_invoices_items');
    writeFileSync(path.join(dir, 'qb_invoices_items.json'), '{}');
    expect(defaultJob(['items', 'invoices'], dir)).toBe('qb_invoices_items');
  });

  it('is qb_all for every stream, and stays a file name for any other set', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jobs-'));
    const every = ENTITIES.map((e) => e.stream);
    expect(defaultJob([...every].reverse(), dir)).toBe('qb_all');
    const allButOne = every.filter((s) => s !== 'invoices');
    const job = defaultJob(allButOne, dir);
    expect(job).toMatch(/^qb_27_streams_[0-9a-f]{12}$/);
    expect(defaultJob([...allButOne].reverse(), dir)).toBe(job);
    expect(
      defaultJob(
        every.filter((s) => s !== 'items'),
        dir,
      ),
    ).not.toBe(job);
    // A name that fitted before keeps its state file.
    const eight = ['accounts', 'bills', 'customers', 'estimates', 'invoices', 'items', 'payments', 'vendors'];
    expect(defaultJob(eight, dir)).toBe(`qb_${eight.join('_')}`);
  });
});

describe('resolveStreams', () => {
  it('takes all for every stream, and still names a typo beside it', () => {
    expect(resolveStreams(['all'])).toEqual(ENTITIES.map((e) => e.stream));
    expect(resolveStreams([' all', 'invoices'])).toHaveLength(ENTITIES.length);
    expect(() => resolveStreams(['all', 'invoice'])).toThrow(/^--streams: unknown stream "invoice"; known streams: accounts, .* \(or all\)$/);
  });

  it('takes for a company only its streams: (all: those), and names them when a stream is not one of them', () => {
    const acme = { name: 'acme', streams: ['invoices', 'customers'] };
    expect(resolveStreams(['all'], acme)).toEqual(['invoices', 'customers']);
    expect(resolveStreams(['customers'], acme)).toEqual(['customers']);
    expect(() => resolveStreams(['invoices', 'bills', 'invoice'], acme)).toThrow(
      /^--streams: "bills", "invoice" are not among company acme's streams \(its streams: in the companies file\): invoices, customers$/,
    );
  });

  it('runs a backfill of every stream as job qb_all, with a state file a file system can hold', () => {
    const r = resolveBackfill({ ...base, streams: ['all'] }, '/repo');
    expect(r.job).toBe('qb_all');
    expect(r.stateFile).toBe('/repo/state/qb_all.json');
    expect(r.streams).toHaveLength(ENTITIES.length);
  });
});
