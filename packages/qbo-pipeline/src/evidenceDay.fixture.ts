import type { NewestEvidence } from './Warehouse.js';

/** Tests' day of evidence: one stream-day read once, 2 records counted, extracted and inserted; a test overrides what it is about. */
export function evidenceDay(overrides: Partial<NewestEvidence> = {}): NewestEvidence {
  return {
    runId: 'run-1',
    stream: 'invoices',
    day: '2025-02-24',
    qboCount: 2,
    extracted: 2,
    loaded: 2,
    inserted: 2,
    updated: 0,
    unchanged: 0,
    deleted: 0,
    rejected: 0,
    windows: 1,
    empty: false,
    runs: 1,
    extractedEqualsLoaded: true,
    extractedAt: '2025-02-25T00:00:00Z',
    ...overrides,
  };
}
