import { describe, expect, it } from 'vitest';
import { UsageError } from 'singer-kit';
import { discoverCatalog } from './discoverCatalog.js';
import { ENTITIES } from './entities.js';
import { selectStreams, type SelectedStream } from './selectStreams.js';

type Metadata = Record<string, unknown>;
interface Entry {
  tap_stream_id: string;
  stream: string;
  schema: Record<string, unknown>;
  metadata: { breadcrumb: string[]; metadata: Metadata }[];
  [legacy: string]: unknown;
}

/** A mutable copy of the discovered catalog, to edit like a user would. */
function catalogCopy(): { streams: Entry[] } {
  return discoverCatalog() as unknown as { streams: Entry[] };
}

function entry(catalog: { streams: Entry[] }, stream: string): Entry {
  return catalog.streams.find((s) => s.tap_stream_id === stream)!;
}

function node(e: Entry, field?: string): Metadata {
  const breadcrumb = field === undefined ? [] : ['properties', field];
  return e.metadata.find((m) => JSON.stringify(m.breadcrumb) === JSON.stringify(breadcrumb))!.metadata;
}

function run(catalog: unknown): { streams: SelectedStream[]; warnings: string[] } {
  const warnings: string[] = [];
  return { streams: selectStreams(catalog, (w) => warnings.push(w)), warnings };
}

function only(catalog: unknown, stream: string): SelectedStream {
  const found = run(catalog).streams.find((s) => s.tapStreamId === stream);
  if (found === undefined) throw new Error(`${stream} not selected`);
  return found;
}

/** What `meltano invoke --dump=catalog` produces: `!*.*`, then `select`, mirrored onto the stream object (B15). */
function meltanoStyle(select: Record<string, readonly string[] | '*'>): { streams: Entry[] } {
  const catalog = catalogCopy();
  for (const e of catalog.streams) {
    const fields = select[e.tap_stream_id];
    for (const m of e.metadata) {
      const field = m.breadcrumb[1];
      m.metadata.selected = m.breadcrumb.length === 0 ? fields !== undefined : fields === '*' || (fields?.includes(field!) ?? false);
    }
    // Meltano also creates metadata for nested properties, deselected by `!*.*`.
    e.metadata.push({ breadcrumb: ['properties', 'MetaData', 'properties', 'CreateTime'], metadata: { inclusion: 'available', selected: false } });
    e.selected = fields !== undefined;
    e.replication_method = node(e)['forced-replication-method'];
    if (node(e)['replication-key'] !== undefined) e.replication_key = node(e)['replication-key'];
    e.key_properties = node(e)['table-key-properties'];
  }
  return catalog;
}

const ids = (streams: SelectedStream[]) => streams.map((s) => s.tapStreamId);
const DEFAULT_STREAMS = [...ENTITIES.map((e) => e.stream), '_volumetry'];

describe('selectStreams without a catalog (B8)', () => {
  const { streams, warnings } = run(undefined);

  it('selects every stream selected by default: the entities and _volumetry', () => {
    expect(ids(streams)).toEqual(DEFAULT_STREAMS);
    expect(warnings).toEqual([]);
  });

  it('filters no fields and uses the discovered replication settings', () => {
    const invoices = streams.find((s) => s.stream === 'invoices')!;
    expect(invoices.includedProperties).toBeUndefined();
    expect(invoices.entity?.entity).toBe('Invoice');
    expect(invoices.keyProperties).toEqual(['Id']);
    expect(invoices.replicationMethod).toBe('INCREMENTAL');
    expect(invoices.replicationKey).toBe('MetaData.LastUpdatedTime');
    expect(Object.keys(invoices.schema.properties!)).toContain('_sdc_page_number');
    const companyInfo = streams.find((s) => s.stream === 'company_info')!;
    expect(companyInfo.replicationMethod).toBe('FULL_TABLE');
    expect(companyInfo.replicationKey).toBeUndefined();
    expect(streams.find((s) => s.stream === '_volumetry')!.entity).toBeUndefined();
  });

  it('gives the same streams when the discovered catalog is fed back in (B19)', () => {
    expect(run(catalogCopy()).streams).toEqual(streams);
  });
});

describe('stream selection', () => {
  it('a stream with selected:false at [] is not selected (B9)', () => {
    const catalog = catalogCopy();
    node(entry(catalog, 'invoices')).selected = false;
    expect(ids(run(catalog).streams)).toEqual(DEFAULT_STREAMS.filter((s) => s !== 'invoices'));
  });

  it('the legacy string "true" selects a stream and "false" deselects it (B14)', () => {
    const catalog = catalogCopy();
    node(entry(catalog, 'terms')).selected = 'true';
    node(entry(catalog, 'terms'))['selected-by-default'] = false;
    node(entry(catalog, 'items')).selected = 'false';
    const selected = ids(run(catalog).streams);
    expect(selected).toContain('terms');
    expect(selected).not.toContain('items');
  });

  it('without selected, the stream uses selected-by-default, then false (B13)', () => {
    const catalog = catalogCopy();
    delete node(entry(catalog, 'items')).selected;
    delete node(entry(catalog, 'terms')).selected;
    delete node(entry(catalog, 'terms'))['selected-by-default'];
    const selected = ids(run(catalog).streams);
    expect(selected).toContain('items');
    expect(selected).not.toContain('terms');
  });

  it('a stream entry without metadata is selected whole, unless its legacy selected says no', () => {
    const catalog = {
      streams: [
        { tap_stream_id: 'items', stream: 'items', schema: {} },
        { tap_stream_id: 'terms', selected: false },
      ],
    };
    const { streams } = run(catalog);
    expect(ids(streams)).toEqual(['items']);
    expect(streams[0]!.includedProperties).toBeUndefined();
  });

  it('uses the legacy stream-object selected when metadata has none (singer-python catalogs)', () => {
    const catalog = catalogCopy();
    delete node(entry(catalog, 'terms')).selected;
    node(entry(catalog, 'terms'))['selected-by-default'] = false;
    entry(catalog, 'terms').selected = true;
    delete node(entry(catalog, 'bills')).selected;
    entry(catalog, 'bills').schema.selected = false;
    const selected = ids(run(catalog).streams);
    expect(selected).toContain('terms');
    expect(selected).not.toContain('bills');
  });

  it('warns about and skips a stream the tap does not know (B18)', () => {
    const catalog = catalogCopy();
    catalog.streams.unshift({ tap_stream_id: 'budgets', stream: 'budgets', schema: {}, metadata: [] });
    const { streams, warnings } = run(catalog);
    expect(ids(streams)).toEqual(DEFAULT_STREAMS);
    expect(warnings).toEqual(['catalog: stream "budgets" is not known to this tap; ignoring it']);
  });

  it("uses the catalog's stream name for messages when it differs from tap_stream_id (B20)", () => {
    const catalog = catalogCopy();
    entry(catalog, 'invoices').stream = 'qbo_invoices';
    const invoices = only(catalog, 'invoices');
    expect(invoices.stream).toBe('qbo_invoices');
    expect(invoices.entity?.entity).toBe('Invoice');
  });
});

describe('field selection', () => {
  it('drops an available field with selected:false from the schema and lists the rest (B10)', () => {
    const catalog = catalogCopy();
    node(entry(catalog, 'invoices'), 'PrivateNote').selected = false;
    const invoices = only(catalog, 'invoices');
    expect(invoices.schema.properties).not.toHaveProperty('PrivateNote');
    expect(invoices.schema.properties).toHaveProperty('TotalAmt');
    expect(invoices.includedProperties?.has('PrivateNote')).toBe(false);
    expect(invoices.includedProperties?.has('TotalAmt')).toBe(true);
    expect(invoices.includedProperties?.size).toBe(Object.keys(invoices.schema.properties!).length);
  });

  it('keeps automatic fields even when deselected: key, replication key, _sdc_ fields (B11)', () => {
    const catalog = catalogCopy();
    for (const field of ['Id', 'MetaData', '_sdc_run_id', 'TotalAmt']) node(entry(catalog, 'invoices'), field).selected = false;
    const invoices = only(catalog, 'invoices');
    expect([...invoices.includedProperties!]).toEqual(expect.arrayContaining(['Id', 'MetaData', '_sdc_run_id']));
    expect(invoices.includedProperties!.has('TotalAmt')).toBe(false);
  });

  it('drops an unsupported field even when selected:true (B12)', () => {
    const catalog = catalogCopy();
    Object.assign(node(entry(catalog, 'invoices'), 'InvoiceLink'), { inclusion: 'unsupported', selected: true });
    expect(only(catalog, 'invoices').schema.properties).not.toHaveProperty('InvoiceLink');
  });

  it("a field without selected uses selected-by-default, then the stream's selection (B13)", () => {
    const catalog = catalogCopy();
    const invoices = entry(catalog, 'invoices');
    Object.assign(node(invoices, 'PrivateNote'), { 'selected-by-default': false });
    delete node(invoices, 'TotalAmt')['selected-by-default'];
    invoices.metadata = invoices.metadata.filter((m) => m.breadcrumb[1] !== 'DocNumber');
    const selected = only(catalog, 'invoices');
    expect(selected.includedProperties!.has('PrivateNote')).toBe(false);
    expect(selected.includedProperties!.has('TotalAmt')).toBe(true);
    expect(selected.includedProperties!.has('DocNumber')).toBe(true);
  });

  it('never drops key properties, even if the catalog marks them unsupported', () => {
    const catalog = catalogCopy();
    Object.assign(node(entry(catalog, 'items'), 'Id'), { inclusion: 'unsupported' });
    expect(only(catalog, 'items').schema.properties).toHaveProperty('Id');
  });
});

describe('Meltano-style catalogs (B15)', () => {
  it('honours explicit selection on every node and the mirrored stream-object fields', () => {
    const catalog = meltanoStyle({ invoices: ['TotalAmt', 'TxnDate'], customers: '*' });
    const { streams, warnings } = run(catalog);
    expect(ids(streams)).toEqual(['customers', 'invoices']);
    const invoices = streams.find((s) => s.stream === 'invoices')!;
    expect(Object.keys(invoices.schema.properties!).sort()).toEqual(
      ['Id', 'MetaData', 'TotalAmt', 'TxnDate', ...Object.keys(invoices.schema.properties!).filter((p) => p.startsWith('_sdc_'))].sort(),
    );
    expect(invoices.replicationKey).toBe('MetaData.LastUpdatedTime');
    expect(streams.find((s) => s.stream === 'customers')!.includedProperties).toBeUndefined();
    // customers selects MetaData and deselects its CreateTime; invoices gets MetaData only because
    // its replication key is there, so what the catalog says of its nested fields is not a choice.
    expect(warnings).toEqual(['catalog: stream "customers": nested fields cannot be deselected; their top-level fields are emitted whole']);
  });
});

describe('replication settings (B16, B17)', () => {
  const withInvoices = (edit: (e: Entry) => void) => {
    const catalog = catalogCopy();
    edit(entry(catalog, 'invoices'));
    return only(catalog, 'invoices');
  };

  it('method: metadata replication-method wins over everything', () => {
    const s = withInvoices((e) => {
      node(e)['replication-method'] = 'FULL_TABLE';
      e.replication_method = 'INCREMENTAL';
    });
    expect(s.replicationMethod).toBe('FULL_TABLE');
    expect(s.replicationKey).toBeUndefined();
  });

  it('method: top-level replication_method wins over forced-replication-method', () => {
    expect(withInvoices((e) => (e.replication_method = 'FULL_TABLE')).replicationMethod).toBe('FULL_TABLE');
  });

  it('method: forced-replication-method wins over the default', () => {
    const s = withInvoices((e) => {
      delete e.replication_method;
      node(e)['forced-replication-method'] = 'FULL_TABLE';
    });
    expect(s.replicationMethod).toBe('FULL_TABLE');
  });

  it('method: the stream default when nothing is set', () => {
    const s = withInvoices((e) => {
      delete e.replication_method;
      delete node(e)['forced-replication-method'];
    });
    expect(s.replicationMethod).toBe('INCREMENTAL');
  });

  it('method: an unsupported method is a UsageError', () => {
    expect(() => withInvoices((e) => (node(e)['replication-method'] = 'LOG_BASED'))).toThrow(
      /stream "invoices": replication method "LOG_BASED" is not supported/,
    );
  });

  it('method: INCREMENTAL on a stream without a replication key is a UsageError', () => {
    const catalog = catalogCopy();
    node(entry(catalog, 'company_info'))['replication-method'] = 'INCREMENTAL';
    expect(() => run(catalog)).toThrow(/"company_info" cannot be replicated INCREMENTAL/);
  });

  it('key: metadata replication-key, then top-level replication_key, then the default', () => {
    const metadataWins = () =>
      withInvoices((e) => {
        node(e)['replication-key'] = 'MetaData.LastUpdatedTime';
        e.replication_key = 'Nope';
      });
    expect(metadataWins().replicationKey).toBe('MetaData.LastUpdatedTime');
    const topLevel = () =>
      withInvoices((e) => {
        delete node(e)['replication-key'];
        e.replication_key = 'TxnDate';
      });
    expect(topLevel).toThrow(UsageError);
    expect(topLevel).toThrow('catalog: stream "invoices": unknown replication key "TxnDate" (valid: MetaData.LastUpdatedTime)');
    const byDefault = withInvoices((e) => {
      delete node(e)['replication-key'];
      delete e.replication_key;
    });
    expect(byDefault.replicationKey).toBe('MetaData.LastUpdatedTime');
  });

  it('key: an unknown key in metadata is a UsageError', () => {
    expect(() => withInvoices((e) => (node(e)['replication-key'] = 'LastUpdatedTime'))).toThrow(/unknown replication key "LastUpdatedTime"/);
  });

  it('key properties: top-level, then table-key-properties; must name schema properties', () => {
    expect(withInvoices((e) => (e.key_properties = ['DocNumber'])).keyProperties).toEqual(['DocNumber']);
    const metadataOnly = withInvoices((e) => {
      delete e.key_properties;
      node(e)['table-key-properties'] = ['Id', 'SyncToken'];
    });
    expect(metadataOnly.keyProperties).toEqual(['Id', 'SyncToken']);
    expect(() => withInvoices((e) => (e.key_properties = ['Nope']))).toThrow(/key properties \["Nope"\]/);
  });
});

describe('malformed catalogs are UsageErrors naming the problem', () => {
  it.each([
    [[], 'catalog: expected a JSON object with a "streams" array'],
    [{ streams: {} }, 'catalog: expected a JSON object with a "streams" array'],
    [{ streams: [42] }, 'catalog: streams[0] must be an object'],
    [{ streams: [{ stream: 'x' }] }, 'catalog: streams[0].tap_stream_id must be a non-empty string'],
    [{ streams: [{ tap_stream_id: 'items' }, { tap_stream_id: 'items' }] }, 'catalog: stream "items" appears more than once'],
    [{ streams: [{ tap_stream_id: 'items', metadata: {} }] }, 'catalog: streams[0] ("items").metadata must be an array'],
    [
      { streams: [{ tap_stream_id: 'items', metadata: [{ breadcrumb: 'x', metadata: {} }] }] },
      'catalog: streams[0] ("items").metadata[0].breadcrumb must be an array of strings',
    ],
    [
      { streams: [{ tap_stream_id: 'items', metadata: [{ breadcrumb: [], metadata: { selected: 'yes' } }] }] },
      'catalog: streams[0] ("items").metadata[0].selected must be true or false, got "yes"',
    ],
    [
      { streams: [{ tap_stream_id: 'items', metadata: [{ breadcrumb: [], metadata: { inclusion: 'sometimes' } }] }] },
      'catalog: streams[0] ("items").metadata[0].inclusion must be one of automatic, available, unsupported, got "sometimes"',
    ],
  ])('%j', (catalog, message) => {
    expect(() => run(catalog)).toThrow(UsageError);
    expect(() => run(catalog)).toThrow(message);
  });
});
