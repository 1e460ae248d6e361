import { describe, expect, it } from 'vitest';
import { formatViews, viewCompaniesText, type ViewsOutcome } from './companyViews.js';

const FIRM = ['acme', 'globex', 'initech', 'hooli', 'umbrella', 'wayne'];

describe('viewCompaniesText: what a view unions, in one line', () => {
  it('names up to five companies', () => {
    expect(viewCompaniesText(['acme', 'globex'], FIRM)).toBe('acme, globex');
    expect(viewCompaniesText(FIRM.slice(0, 5), FIRM)).toBe('acme, globex, initech, hooli, umbrella');
  });

  it('counts more than five: all of them, or all but the few it lacks, named', () => {
    expect(viewCompaniesText(FIRM, FIRM)).toBe('all 6 companies');
    const firm = [...FIRM, 'stark', 'tyrell'];
    expect(
      viewCompaniesText(
        firm.filter((name) => name !== 'hooli'),
        firm,
      ),
    ).toBe('7 companies: all but hooli');
  });

  it('names them when it lacks more than five', () => {
    const firm = Array.from({ length: 12 }, (_, i) => `c${i}`);
    expect(viewCompaniesText(firm.slice(0, 6), firm)).toBe('c0, c1, c2, c3, c4, c5');
  });
});

describe('formatViews', () => {
  it('a firm of six: each view says all 6 companies, not every name again; the first line names them once', () => {
    const outcome: ViewsOutcome = {
      where: 'localhost:5432/warehouse',
      schema: 'qbo_all',
      file: '/srv/firm/companies.yaml',
      companies: FIRM.map((name) => ({ name, schema: `raw_${name}` })),
      views: [
        { stream: 'customers', companies: FIRM, change: 'created', statements: [] },
        { stream: 'payments', companies: ['initech'], change: 'created', statements: [] },
      ],
      stale: [],
      notes: [],
    };
    expect(formatViews(outcome).split('\n')).toEqual([
      'views in schema qbo_all at localhost:5432/warehouse, over 6 companies (acme, globex, initech, hooli, umbrella, wayne): 2 created, 0 replaced, 0 unchanged',
      '',
      'view              | companies       | change',
      '------------------+-----------------+--------',
      'qbo_all.customers | all 6 companies | created',
      'qbo_all.payments  | initech         | created',
    ]);
  });
});
