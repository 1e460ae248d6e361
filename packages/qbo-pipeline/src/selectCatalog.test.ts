import { describe, expect, it } from 'vitest';
import { selectCatalog } from './selectCatalog.js';

const discovered = {
  streams: [
    {
      tap_stream_id: 'invoices',
      schema: {},
      metadata: [
        { breadcrumb: [], metadata: { 'table-key-properties': ['Id'], selected: false } },
        { breadcrumb: ['properties', 'Id'], metadata: { inclusion: 'automatic' } },
      ],
    },
    { tap_stream_id: 'customers', schema: {}, metadata: [{ breadcrumb: [], metadata: { selected: true } }] },
    { tap_stream_id: 'items', schema: {} },
    { tap_stream_id: '_volumetry', schema: {}, metadata: [{ breadcrumb: [], metadata: {} }] },
  ],
};

const rootSelected = (catalog: ReturnType<typeof selectCatalog>) =>
  Object.fromEntries(catalog.streams.map((s) => [s.tap_stream_id, s.metadata?.find((m) => m.breadcrumb.length === 0)?.metadata.selected]));

describe('selectCatalog', () => {
  it('selects exactly the asked streams and the evidence stream, keeping other metadata', () => {
    const catalog = selectCatalog(discovered, ['invoices', 'items']);
    expect(rootSelected(catalog)).toEqual({ invoices: true, customers: false, items: true, _volumetry: true });
    expect(catalog.streams[0]?.metadata?.[0]?.metadata['table-key-properties']).toEqual(['Id']);
    expect(catalog.streams[0]?.metadata?.[1]).toEqual({ breadcrumb: ['properties', 'Id'], metadata: { inclusion: 'automatic' } });
  });

  it('fails clearly when the tap does not offer a stream', () => {
    expect(() => selectCatalog(discovered, ['payments'])).toThrow(/does not offer stream payments/);
    expect(() => selectCatalog({}, ['invoices'])).toThrow(/no "streams" list/);
  });
});
