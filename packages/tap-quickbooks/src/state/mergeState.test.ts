import { describe, expect, it } from 'vitest';
import { advanceBookmark, advanceBookmarkText, lookupBookmark, normaliseState } from './mergeState.js';

describe('advanceBookmark', () => {
  const input = {
    bookmarks: {
      invoices: { replication_key: 'MetaData.LastUpdatedTime', replication_key_value: '2025-01-01T00:00:00Z', progress_markers: { x: 1 }, custom: 'kept' },
      customers: { replication_key: 'MetaData.LastUpdatedTime', replication_key_value: '2024-06-01T00:00:00Z' },
    },
    currently_syncing: 'invoices',
    other_tap: { anything: [1, 2] },
  };

  it('advances one stream and carries every other bookmark and key forward', () => {
    const next = advanceBookmark(input, 'invoices', '2025-01-02T00:00:00Z');
    expect(next).toEqual({
      bookmarks: {
        invoices: { replication_key: 'MetaData.LastUpdatedTime', replication_key_value: '2025-01-02T00:00:00Z', custom: 'kept' },
        customers: input.bookmarks.customers,
      },
      currently_syncing: 'invoices',
      other_tap: { anything: [1, 2] },
    });
    expect(input.bookmarks.invoices.replication_key_value).toBe('2025-01-01T00:00:00Z');
  });

  it('creates bookmarks for a new stream', () => {
    expect(advanceBookmark({}, 'items', '2025-01-02T00:00:00Z')).toEqual({
      bookmarks: { items: { replication_key: 'MetaData.LastUpdatedTime', replication_key_value: '2025-01-02T00:00:00Z' } },
    });
  });
});

describe('lookupBookmark', () => {
  it('finds our bookmark, reports a foreign replication key, and ignores junk', () => {
    expect(lookupBookmark({ bookmarks: { a: { replication_key: 'MetaData.LastUpdatedTime', replication_key_value: 'v' } } }, 'a')).toEqual({
      kind: 'found',
      value: 'v',
    });
    expect(lookupBookmark({ bookmarks: { a: { replication_key: 'TxnDate', replication_key_value: 'v' } } }, 'a')).toEqual({
      kind: 'other-key',
      key: 'TxnDate',
    });
    expect(lookupBookmark(normaliseState(null), 'a')).toEqual({ kind: 'none' });
    expect(normaliseState([1])).toEqual({});
  });
});

describe('advanceBookmarkText', () => {
  it('rewrites only the advanced bookmark and copies every other value as its text (big integers, decimals, escapes)', () => {
    const text = [
      '{"bookmarks": {"invoices": {"replication_key_value": "2025-01-01T00:00:00Z", "n": 9007199254740993, "progress_markers": {"x": 1}},',
      '  "customers": {"replication_key_value": "2024-06-01T00:00:00Z", "big": 12345678901234567891}},',
      ' "other_tap": {"amount": 1.10, "s": "a\\"b\\u00e9 \\n"}}',
    ].join('\n');
    expect(advanceBookmarkText(text, 'invoices', '2025-01-02T00:00:00Z')).toBe(
      '{"bookmarks":{"invoices":{"replication_key_value":"2025-01-02T00:00:00Z","n":9007199254740993,"replication_key":"MetaData.LastUpdatedTime"},' +
        '"customers":{"replication_key_value":"2024-06-01T00:00:00Z","big":12345678901234567891}},' +
        '"other_tap":{"amount":1.10,"s":"a\\"b\\u00e9 \\n"}}',
    );
  });

  it('agrees with advanceBookmark on the value, also for a new stream, no bookmarks, and repeated keys (the last wins, as JSON.parse reads it)', () => {
    for (const value of [
      {},
      { bookmarks: {} },
      { bookmarks: { invoices: { replication_key: 'MetaData.LastUpdatedTime', replication_key_value: 'v', custom: [1, { a: null }] } }, x: true },
      { currently_syncing: 'items', bookmarks: { items: null } },
    ]) {
      const next = advanceBookmarkText(JSON.stringify(value), 'items', '2025-01-02T00:00:00Z');
      expect(JSON.parse(next)).toEqual(advanceBookmark(normaliseState(value) as never, 'items', '2025-01-02T00:00:00Z'));
    }
    // A state on one line with spaces (Python's json.dumps, as Meltano writes it) comes out compact too.
    expect(advanceBookmarkText('{"x": 1.10, "bookmarks": {}}', 'a', 'v')).toBe(
      '{"x":1.10,"bookmarks":{"a":{"replication_key":"MetaData.LastUpdatedTime","replication_key_value":"v"}}}',
    );
    expect(JSON.parse(advanceBookmarkText('{"x":1,"bookmarks":{},"x":2}', 'a', 'v'))).toEqual({
      x: 2,
      bookmarks: { a: { replication_key: 'MetaData.LastUpdatedTime', replication_key_value: 'v' } },
    });
  });
});
