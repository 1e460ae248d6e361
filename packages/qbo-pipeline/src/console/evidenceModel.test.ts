import { describe, expect, it } from 'vitest';
import { evidenceDay } from '../evidenceDay.fixture.js';
import { dayStatus, streamEvidence } from './evidenceModel.js';

const day = (stream: string, d: string, qbo: number, extracted: number, loaded: number) =>
  evidenceDay({
    runId: 'r1',
    stream,
    day: d,
    qboCount: qbo,
    extracted,
    loaded,
    inserted: loaded,
    empty: extracted === 0,
    extractedEqualsLoaded: extracted === loaded,
    extractedAt: `${d}T12:00:00Z`,
  });

describe('evidence model', () => {
  it('marks each day: lost before a count difference before empty before ok', () => {
    expect(dayStatus(day('invoices', '2025-01-01', 5, 5, 4))).toBe('lost');
    expect(dayStatus(day('invoices', '2025-01-01', 6, 5, 5))).toBe('count differs');
    expect(dayStatus(day('invoices', '2025-01-01', 0, 0, 0))).toBe('empty');
    expect(dayStatus(day('invoices', '2025-01-01', 5, 5, 5))).toBe('ok');
  });

  it('gives each stream one cell per UTC day from its first to its last, gaps marked missing', () => {
    const [items, invoices] = streamEvidence([
      day('invoices', '2025-01-01', 5, 5, 5),
      day('items', '2025-01-30', 1, 1, 1),
      day('invoices', '2025-01-04', 0, 0, 0),
      day('invoices', '2025-01-02', 5, 5, 4),
    ]).sort((a, b) => b.stream.localeCompare(a.stream));
    expect(invoices?.days.map((d) => [d.day, d.status])).toEqual([
      ['2025-01-01', 'ok'],
      ['2025-01-02', 'lost'],
      ['2025-01-03', 'missing'],
      ['2025-01-04', 'empty'],
    ]);
    expect(invoices?.counts).toEqual({ lost: 1, missing: 1, 'count differs': 0, empty: 1, ok: 1 });
    expect(items?.days.map((d) => d.day)).toEqual(['2025-01-30']);
  });

  it("does not call missing the days one window filed under an earlier day read (company_info's one window over a backfill)", () => {
    const whole = { ...day('company_info', '2026-12-01', 1, 1, 1), readFrom: '2026-12-01T00:00:00.000Z', readUntil: '2026-12-07T00:00:00.000Z' };
    const today = { ...day('company_info', '2026-12-07', 1, 1, 1), readFrom: '2026-12-07T00:00:00.000Z', readUntil: '2026-12-07T16:55:01.000Z' };
    const later = { ...day('company_info', '2026-12-09', 1, 1, 1), readFrom: '2026-12-09T00:00:00.000Z', readUntil: '2026-12-09T10:00:00.000Z' };
    const [s] = streamEvidence([whole, today, later]);
    expect(s?.days.map((d) => [d.day, d.status])).toEqual([
      ['2026-12-01', 'ok'],
      ['2026-12-07', 'ok'],
      ['2026-12-08', 'missing'],
      ['2026-12-09', 'ok'],
    ]);
    expect(s?.counts.missing).toBe(1);
  });

  it('crosses month and year ends by calendar day', () => {
    const [s] = streamEvidence([day('x', '2024-12-31', 1, 1, 1), day('x', '2025-01-01', 1, 1, 1)]);
    expect(s?.days.map((d) => d.day)).toEqual(['2024-12-31', '2025-01-01']);
  });
});
