import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvDraft04 from 'ajv-draft-04';
import ajvFormats from 'ajv-formats';
import { entityByStream, streamSchema } from 'qbo-catalog';
import { FIXTURES_DIR, HAVE_FIXTURES, NO_FIXTURES_REASON } from './support/db.js';
import { undeclaredFields } from './support/undeclaredFields.js';

const RECORDS_DIR = path.join(FIXTURES_DIR, 'qbo', 'records');
const files = HAVE_FIXTURES
  ? readdirSync(RECORDS_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort()
  : [];

/** Draft 4 (singer-python and its heirs), draft-07 and 2020-12 (Meltano SDK), all formats checked. */
function validators(stream: string): ValidateFunction[] {
  // the CommonJS packages without a named export: their class is also their `default`
  return [new ajvDraft04.default(), new Ajv(), new Ajv2020()].map((ajv) => {
    ajvFormats.default(ajv);
    return ajv.compile(streamSchema(stream));
  });
}

function errorsOf(validate: ValidateFunction, record: unknown): string {
  return validate(record) ? '' : JSON.stringify(validate.errors);
}

describe.skipIf(!HAVE_FIXTURES)('real QBO sandbox records validate against the catalog', () => {
  if (!HAVE_FIXTURES) console.warn(NO_FIXTURES_REASON);

  it('covers the fixture files, each named after a known entity stream', () => {
    expect(files.length).toBeGreaterThanOrEqual(17);
    for (const file of files) expect(entityByStream(file.split('.')[0]!), file).toBeDefined();
  });

  it.each(files)('%s: every record is valid, and still valid with every non-key field null (C2, C12)', (file) => {
    const stream = file.split('.')[0]!;
    const records = JSON.parse(readFileSync(path.join(RECORDS_DIR, file), 'utf8')) as Record<string, unknown>[];
    expect(records.length).toBeGreaterThan(0);
    for (const validate of validators(stream)) {
      for (const record of records) {
        expect(errorsOf(validate, record), `${stream} Id ${String(record.Id)}`).toBe('');
        const nulled = Object.fromEntries(Object.keys(record).map((key) => [key, key === 'Id' ? record.Id : null]));
        expect(errorsOf(validate, nulled), `${stream} Id ${String(record.Id)} with nulls`).toBe('');
      }
    }
  });

  it.each(files)('%s: every field of every record, at any depth, is declared in the schema (C5)', (file) => {
    const stream = file.split('.')[0]!;
    const records = JSON.parse(readFileSync(path.join(RECORDS_DIR, file), 'utf8')) as unknown[];
    expect([...new Set(records.flatMap((record) => undeclaredFields(record, streamSchema(stream))))]).toEqual([]);
  });

  it('rejects what the real data never has: a numeric Id, a string amount, a bad date, a date-time without offset (so the check can fail)', () => {
    const [invoice] = JSON.parse(readFileSync(path.join(RECORDS_DIR, 'invoices.airbyte-sandbox.json'), 'utf8')) as Record<string, unknown>[];
    for (const validate of validators('invoices')) {
      expect(validate({ ...invoice, Id: 119 })).toBe(false);
      expect(validate({ ...invoice, TotalAmt: '314.28' })).toBe(false);
      expect(validate({ ...invoice, TxnDate: '02/18/2023' })).toBe(false);
      expect(validate({ ...invoice, MetaData: { LastUpdatedTime: '2023-02-18T12:57:24' } })).toBe(false);
      expect(validate({ ...invoice, NewFieldFromQbo: { any: 'shape' } })).toBe(true);
    }
  });
});
