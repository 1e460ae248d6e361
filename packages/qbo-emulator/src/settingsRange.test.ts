import { describe, expect, it } from 'vitest';
import { settingsRange } from './settingsRange.js';

describe('settingsRange: the range printed with the settings', () => {
  it('with --now: from the UTC midnight before the oldest record to that now', () => {
    expect(settingsRange({ now: new Date('2025-02-01T00:00:00Z'), days: 7 }, new Date('2030-01-01T00:00:00Z'))).toEqual({
      start_date: '2025-01-25T00:00:00Z',
      end_date: '2025-02-01T00:00:00Z',
    });
    expect(settingsRange({ now: new Date('2025-02-01T13:30:00.250Z'), days: 1 }, new Date())).toEqual({
      start_date: '2025-01-31T00:00:00Z',
      end_date: '2025-02-01T13:30:01Z',
    });
  });

  it('without: from the midnight before the oldest record, and no end (the tap ends at its own start)', () => {
    expect(settingsRange({ days: 90 }, new Date('2025-06-15T10:00:00Z'))).toEqual({ start_date: '2025-03-17T00:00:00Z' });
  });
});
