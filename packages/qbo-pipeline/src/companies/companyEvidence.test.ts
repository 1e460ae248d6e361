import { describe, expect, it } from 'vitest';
import { evidenceDay } from '../evidenceDay.fixture.js';
import { formatCompaniesEvidence, isUnreadable, type CompanyEvidence } from './companyEvidence.js';
import type { Company } from './parseCompanies.js';

const company = (name: string): Company => ({
  name,
  realmId: '1',
  schema: `raw_${name}`,
  streams: ['invoices'],
  start: undefined,
  schedule: undefined,
  secretFiles: {},
  tap: {},
  target: {},
  where: 'companies.yaml:1',
});

const day = (extracted: number, loaded: number) =>
  evidenceDay({ qboCount: extracted, extracted, loaded, inserted: loaded, extractedEqualsLoaded: extracted === loaded });

const range = { from: '2025-02-24', to: '2025-03-01' };
const read: CompanyEvidence = { company: company('globex'), rows: [day(3, 3)] };
const unreadable: CompanyEvidence = { company: company('acme'), unreadable: 'cannot read schema raw_acme: ENOENT', exitCode: 2 };
const neverLoaded: CompanyEvidence = { company: company('initech'), noneYet: 'no evidence yet: schema raw_initech has no _volumetry and _load_stats' };

describe('formatCompaniesEvidence', () => {
  it('does not say "no day where extracted ≠ loaded" when no company could be read, nor print the error (stderr has it)', () => {
    const text = formatCompaniesEvidence([unreadable], range, true);
    expect(text).toContain('no company could be read');
    expect(text).not.toContain('no day where extracted ≠ loaded');
    expect(text).toContain('0 company-stream-days, 0 where extracted ≠ loaded; 1 of 1 companies could not be read (the errors say why)');
    expect(text).not.toContain('ENOENT');
  });

  it('shows the companies read beside one that could not be read, and counts that one', () => {
    const text = formatCompaniesEvidence([unreadable, read], range, false);
    expect(text).toMatch(/^globex\s+\| invoices\s+\| 2025-02-24 \|/m);
    expect(text).toContain('1 company-stream-day, 0 where extracted ≠ loaded; 1 of 2 companies could not be read');
    expect(text).not.toContain('acme');
  });

  it('says a company never loaded has no evidence yet, on stdout: that is not a problem', () => {
    const text = formatCompaniesEvidence([neverLoaded, read], range, true);
    expect(text).toContain('no day where extracted ≠ loaded');
    expect(text).toContain('initech: no evidence yet: schema raw_initech');
    expect(text).not.toContain('could not be read');
  });
});

describe('formatCompaniesEvidence without a companies file', () => {
  const schemaOnly = (e: CompanyEvidence): CompanyEvidence => ({ ...e, company: { name: 'default' } });

  it('speaks of the schema read, not of a company the user never named', () => {
    const text = formatCompaniesEvidence([schemaOnly(read)], range, false, 'raw');
    expect(text).toMatch(/^evidence of schema raw, UTC days \[2025-02-24, 2025-03-01\): newest run per stream and day$/m);
    expect(text).toMatch(/^stream\s+\| day \(UTC\)/m);
    expect(text).toMatch(/^invoices\s+\| 2025-02-24 \|/m);
    expect(text).toContain('1 stream-day, 0 where extracted ≠ loaded');
    expect(text).not.toMatch(/compan|default/);
  });

  it('says the schema could not be read, and that it has no evidence yet', () => {
    const refused = formatCompaniesEvidence([schemaOnly(unreadable)], range, true, 'raw');
    expect(refused).toContain('schema raw could not be read (the error says why)');
    expect(refused).toContain('0 stream-days, 0 where extracted ≠ loaded');
    expect(refused).not.toMatch(/compan|default/);
    const empty = formatCompaniesEvidence([schemaOnly(neverLoaded)], range, false, 'raw_initech');
    expect(empty).toMatch(/^no evidence yet: schema raw_initech has no/m);
    expect(empty).not.toMatch(/compan|default/);
  });
});

describe('isUnreadable', () => {
  it('is true only of a company that could not be read, not one never loaded', () => {
    expect([unreadable, read, neverLoaded].map(isUnreadable)).toEqual([true, false, false]);
  });
});
