import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvDraft04 from 'ajv-draft-04';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from 'singer-kit';
import { CATALOG_DIR } from './catalogDir.js';
import { discoverCatalog, streamSchema } from './discoverCatalog.js';
import { ENTITIES } from './entities.js';
import type { CatalogStream, JsonSchema } from './SingerCatalog.js';

const catalog = discoverCatalog();
/** The reserved fields as docs/architecture.md lists them (its table is the contract). */
const SDC_FIELDS = [...readFileSync(path.join(CATALOG_DIR, '../docs/architecture.md'), 'utf8').matchAll(/^\| `(_sdc_\w+)` \|/gm)].map((match) => match[1]!);

function rootMetadata(stream: CatalogStream): Record<string, unknown> {
  return stream.metadata.find((m) => m.breadcrumb.length === 0)!.metadata;
}

/** Visits every subschema (not the `properties` maps themselves: a field may be named "type"). */
function walk(schema: JsonSchema, visit: (node: JsonSchema) => void): void {
  visit(schema);
  Object.values(schema.properties ?? {}).forEach((child) => walk(child, visit));
  if (schema.items !== undefined) walk(schema.items as JsonSchema, visit);
  for (const keyword of ['anyOf', 'oneOf', 'allOf'] as const) {
    (schema[keyword] as JsonSchema[] | undefined)?.forEach((child) => walk(child, visit));
  }
}

describe('discoverCatalog', () => {
  it('has one stream per entity plus _volumetry, ids unique (B1); deletions travel on the entity streams', () => {
    const ids = catalog.streams.map((s) => s.tap_stream_id);
    expect(ids).toEqual([...ENTITIES.map((e) => e.stream), '_volumetry']);
    expect(new Set(ids).size).toBe(ids.length);
    for (const stream of catalog.streams) {
      expect(stream.stream).toBe(stream.tap_stream_id);
      expect(stream.schema.type).toBe('object');
      expect(typeof stream.schema.properties).toBe('object');
      expect(Array.isArray(stream.metadata)).toBe(true);
    }
  });

  it('has one root metadata entry with the standard keys (B2)', () => {
    for (const stream of catalog.streams) {
      expect(stream.metadata.filter((m) => m.breadcrumb.length === 0)).toHaveLength(1);
      const md = rootMetadata(stream);
      expect(md.inclusion).toBe('available');
      expect(md['table-key-properties']).toEqual(stream.key_properties);
      expect(md['forced-replication-method']).toBe(stream.replication_method);
      if (stream.replication_method === 'INCREMENTAL') {
        expect(md['valid-replication-keys']).toEqual([stream.replication_key]);
      } else {
        expect(md['valid-replication-keys']).toBeUndefined();
      }
    }
  });

  it('has one metadata entry per top-level property; keys, replication key and _sdc_ fields are automatic (B3, B4)', () => {
    for (const stream of catalog.streams) {
      const fields = stream.metadata.filter((m) => m.breadcrumb.length > 0);
      expect(fields.map((m) => m.breadcrumb)).toEqual(Object.keys(stream.schema.properties!).map((p) => ['properties', p]));
      const automatic = fields.filter((m) => m.metadata.inclusion === 'automatic').map((m) => m.breadcrumb[1]);
      const expected = [...stream.key_properties];
      if (stream.replication_key) expected.push(stream.replication_key.split('.')[0]!);
      expect(automatic.sort()).toEqual([...expected, ...Object.keys(stream.schema.properties!).filter((p) => p.startsWith('_sdc_'))].sort());
      for (const field of fields) {
        expect(['automatic', 'available']).toContain(field.metadata.inclusion);
        expect(field.metadata['selected-by-default']).toBe(true);
      }
    }
  });

  it('entity streams: key Id (a string), INCREMENTAL on MetaData.LastUpdatedTime except company_info (B5)', () => {
    for (const entity of ENTITIES) {
      const stream = catalog.streams.find((s) => s.tap_stream_id === entity.stream)!;
      expect(stream.key_properties).toEqual(['Id']);
      expect(stream.schema.properties!.Id).toMatchObject({ type: 'string' });
      expect(stream.replication_method).toBe(entity.replication);
      expect(stream.replication_key).toBe(entity.replication === 'INCREMENTAL' ? 'MetaData.LastUpdatedTime' : undefined);
      expect(rootMetadata(stream)['selected-by-default']).toBe(true);
    }
  });

  it('_volumetry is selected by default and keyed on id, with no _sdc_ fields', () => {
    const volumetry = catalog.streams.find((s) => s.tap_stream_id === '_volumetry')!;
    expect(rootMetadata(volumetry)['selected-by-default']).toBe(true);
    expect(volumetry.key_properties).toEqual(['id']);
    expect(Object.keys(volumetry.schema.properties!)).toEqual(
      expect.arrayContaining(['run_id', 'stream', 'window_start_utc', 'qbo_count', 'extracted', 'pages', 'empty', 'rereads']),
    );
    expect(Object.keys(volumetry.schema.properties!).some((p) => p.startsWith('_sdc_'))).toBe(false);
  });

  it('every entity stream declares _sdc_deleted_at (nullable date-time, automatic), the field a deletion carries', () => {
    for (const entity of ENTITIES) {
      const stream = catalog.streams.find((s) => s.tap_stream_id === entity.stream)!;
      expect(stream.schema.properties!._sdc_deleted_at, entity.stream).toMatchObject({ type: ['null', 'string'], format: 'date-time' });
      const field = stream.metadata.find((m) => m.breadcrumb.join('/') === 'properties/_sdc_deleted_at');
      expect(field?.metadata.inclusion, entity.stream).toBe('automatic');
    }
  });

  it('every schema, discovered and in catalog/<stream>.json, passes meta-validation under draft-04, draft-07 and 2020-12 (B6)', () => {
    const validators = [new ajvDraft04.default(), new Ajv(), new Ajv2020()];
    for (const stream of catalog.streams) {
      const file = JSON.parse(readFileSync(path.join(CATALOG_DIR, `${stream.stream}.json`), 'utf8')) as JsonSchema;
      for (const ajv of validators) {
        for (const schema of [stream.schema, file]) {
          expect(ajv.validateSchema(schema), `${stream.stream}: ${ajv.errorsText(ajv.errors)}`).toBe(true);
        }
      }
    }
  });

  it('catalog/<stream>.json is the discovered schema without the _sdc_ fields', () => {
    for (const stream of catalog.streams) {
      const { $comment, ...file } = JSON.parse(readFileSync(path.join(CATALOG_DIR, `${stream.stream}.json`), 'utf8')) as JsonSchema;
      expect($comment).toMatch(/do not edit/);
      const properties = Object.fromEntries(Object.entries(stream.schema.properties!).filter(([name]) => !name.startsWith('_sdc_')));
      expect(file).toEqual({ ...stream.schema, properties });
    }
  });

  it('schemas have no $ref/$defs/definitions and no additionalProperties:false (B7, C13)', () => {
    for (const stream of catalog.streams) {
      walk(stream.schema, (node) => {
        expect(node).not.toHaveProperty('$ref');
        expect(node).not.toHaveProperty('$defs');
        expect(node).not.toHaveProperty('definitions');
        expect(node.additionalProperties).not.toBe(false);
      });
    }
  });

  it('every non-key property, at every depth, allows null (C12)', () => {
    for (const stream of catalog.streams) {
      const properties = stream.schema.properties!;
      for (const [name, property] of Object.entries(properties)) {
        if (stream.key_properties.includes(name)) continue;
        walk(property, (node) => {
          if (node.type !== undefined) expect(node.type, `${stream.stream}.${name}`).toContain('null');
        });
      }
    }
  });

  it('money is number, never integer; dates and date-times carry their format', () => {
    const invoice = streamSchema('invoices');
    const props = invoice.properties!;
    expect(props.TotalAmt).toEqual({ type: ['null', 'number'] });
    expect(props.TxnDate).toEqual({ type: ['null', 'string'], format: 'date' });
    expect((props.MetaData as JsonSchema).properties!.LastUpdatedTime).toEqual({ type: ['null', 'string'], format: 'date-time' });
    const line = ((props.Line as JsonSchema).items as JsonSchema).properties!;
    expect((line.SalesItemLineDetail as JsonSchema).properties!.Qty).toMatchObject({ type: ['null', 'number'] });
    expect(props.CustomerRef).toMatchObject({ type: ['null', 'object'], properties: { value: {}, name: {} } });
  });

  it('streamSchema adds the nullable _sdc_ fields of docs/architecture.md to entity streams only', () => {
    const schema = streamSchema('customers');
    expect(SDC_FIELDS).toHaveLength(9);
    expect(Object.keys(schema.properties!).filter((p) => p.startsWith('_sdc_'))).toEqual(SDC_FIELDS);
    for (const field of SDC_FIELDS) expect((schema.properties![field] as JsonSchema).type).toContain('null');
    expect(Object.keys(streamSchema('_volumetry').properties!).some((p) => p.startsWith('_sdc_'))).toBe(false);
  });

  it('returns copies: changing one does not change the next', () => {
    const first = discoverCatalog() as unknown as { streams: { stream: string }[] };
    first.streams[0]!.stream = 'changed';
    expect(discoverCatalog().streams[0]!.stream).toBe('accounts');
  });

  it('streamSchema of an unknown stream is a UsageError naming it', () => {
    expect(() => streamSchema('widgets')).toThrow(UsageError);
    expect(() => streamSchema('widgets')).toThrow(/unknown stream "widgets"/);
  });
});
