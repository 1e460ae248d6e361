import { describe, expect, it } from 'vitest';
import { formatInstant } from 'singer-kit';
import { normaliseBackfill, resolveBackfill, resumeCommand } from './BackfillRequest.js';

const base = { streams: ['invoices', 'customers'], start: '2025-01-01', end: '2025-02-01T00:00:00Z' };

describe('resolveBackfill', () => {
  it('keeps paths outside the working directory absolute in the resume command', () => {
    const r = resolveBackfill({ ...base, tapConfig: '/etc/qbo/tap.json' }, '/home/me');
    expect(resumeCommand(r, '/repo/packages/qbo-pipeline/dist/cli.js', '/home/me')).toMatch(/^node \/repo\/packages\/qbo-pipeline\/dist\/cli\.js backfill .* --tap-config \/etc\/qbo\/tap\.json$/);
  });

  it('fills the job name, state file and UTC range', () => {
    const r = resolveBackfill(base, '/repo');
    expect(r.job).toBe('qb_invoices_customers_backfill');
    expect(r.stateFile).toBe('/repo/state/qb_invoices_customers_backfill.json');
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
      job: 'qb_invoices_customers_backfill',
      tapConfig: '/repo/tap.json',
      stateDir: '/repo/st',
    });
  });

  it('builds the resume command a person can paste, without --fresh', () => {
    const r = resolveBackfill({ ...base, fresh: true, targetConfig: 'my dir/target.json' }, '/repo');
    expect(resumeCommand(r, '/repo/packages/qbo-pipeline/dist/cli.js', '/repo')).toBe(
      "node packages/qbo-pipeline/dist/cli.js backfill --job qb_invoices_customers_backfill --streams invoices,customers --start 2025-01-01T00:00:00Z --end 2025-02-01T00:00:00Z --target-config 'my dir/target.json'",
    );
  });
});
