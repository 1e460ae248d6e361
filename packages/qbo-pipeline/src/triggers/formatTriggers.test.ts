import { describe, expect, it } from 'vitest';
import { formatTriggers } from './formatTriggers.js';
import type { Trigger } from './Trigger.js';

const INVALID_GRANT =
  'tap-quickbooks: QuickBooks rejected the refresh token (invalid_grant, intuit_tid 1415b9bb-ec8a-4c4b-bf5d-4500f32e273e): reconnect the app to company 9341453050000001 and put the new refresh token in its refresh_token_file secrets/globex/refresh_token (companies file companies.yaml:23:27); if another process refreshed with this token first, it has been superseded';

const failed: Trigger = {
  id: 'trg-20250201T020000Z-51b635',
  at: '2025-02-01T02:00:00Z',
  atGiven: '2025-02-01T02:00:00Z',
  createdAt: '2025-02-01T01:00:00Z',
  backfill: { job: 'qb_company', streams: ['invoices'], start: '2025-01-29T00:00:00Z', end: '2025-02-01T00:00:00Z' },
  status: 'failed',
  enabled: false,
  result: { exitCode: 2, message: INVALID_GRANT, runIds: [], fix: INVALID_GRANT },
};

describe('trigger list', () => {
  it("cuts a failed trigger's long reason in its result cell, and says it in full once, under the table", () => {
    const text = formatTriggers([failed], new Date('2025-02-01T03:00:00Z'));
    const lines = text.split('\n');
    expect(lines[2]).toMatch(/\| tap-quickbooks: QuickBooks rejected the refresh token \(invalid_grant, intuit_tid … \(see below\)$/);
    expect(lines.slice(3)).toEqual([`trg-20250201T020000Z-51b635: ${INVALID_GRANT}`]);
    expect(Math.max(...lines.slice(0, 3).map((l) => l.length))).toBeLessThan(250);
  });

  it("heads the range's column range, as the console does: it holds the range the trigger runs over, not a run", () => {
    const [header, , row] = formatTriggers([failed], new Date('2025-02-01T03:00:00Z')).split('\n');
    expect(header?.split('|').map((h) => h.trim())).toEqual(['id', 'at (UTC)', 'status', 'job', 'range', 'result']);
    expect(row?.split('|')[4]?.trim()).toBe('[2025-01-29T00:00:00Z, 2025-02-01T00:00:00Z)');
  });

  it('keeps a short result whole, and adds nothing under the table', () => {
    const done: Trigger = { ...failed, status: 'completed', result: { exitCode: 0, message: 'done: invoices 3 days, 12 records', runIds: ['r1'] } };
    expect(formatTriggers([done], new Date('2025-02-01T03:00:00Z')).split('\n')).toHaveLength(3);
  });
});
