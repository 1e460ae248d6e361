import { describe, expect, it } from 'vitest';
import { connectAdvice, consoleLine, dayReadText, serverEndLine, stoppedLine } from './demoMessages.js';

const url = 'postgres://postgres:qbo-local-pg@127.0.0.1:5433/postgres';

describe('what the demo says about its PostgreSQL', () => {
  it('without a terminal it says the server stops, and how to keep it, without a URL the next run will not have', () => {
    expect(connectAdvice('stopped', url)).toBe(
      'PostgreSQL stops when the demo ends (no terminal to keep it up for you). To query it afterwards: npm run demo -- --keep-running, which prints the psql command to connect with (the port changes from run to run)',
    );
    expect(connectAdvice('stopped', url)).not.toContain('5433');
    expect(connectAdvice('stopped', url)).not.toMatch(/^Connect/);
    expect(serverEndLine('stopped', '.data/pg')).toBe(
      'PostgreSQL has stopped; its data stays in .data/pg for the next demo (npm run demo -- --keep-running keeps it up until Ctrl-C).',
    );
  });

  it("kept up (a terminal, or --keep-running) or the caller's own: connect", () => {
    expect(connectAdvice('kept', url)).toBe(`Connect:  psql '${url}'   (PostgreSQL stays up until Ctrl-C)`);
    expect(connectAdvice('external', url)).toBe(`Connect:  psql '${url}'`);
    expect(serverEndLine('kept', '.data/pg')).toMatch(/Ctrl-C/);
  });

  it('says, after Ctrl-C, what stopped and where the data stays', () => {
    expect(stoppedLine('kept', '.data/pg')).toBe('Stopped PostgreSQL and the console; the data stays in .data/pg for the next demo.');
    expect(stoppedLine('external', '.data/pg')).toBe('Stopped the console.');
  });

  it("ends with the console's URL, saying when it stopped with the demo", () => {
    expect(consoleLine(true, 'http://127.0.0.1:6789/')).toBe('Console: http://127.0.0.1:6789/');
    expect(consoleLine(false, 'http://127.0.0.1:6789/')).toBe(
      'Console: http://127.0.0.1:6789/ (it stopped with the demo; npm run demo -- --keep-running keeps it up until Ctrl-C)',
    );
  });
});

describe('how the volumetry table says a day was read', () => {
  const span = { spanStart: '2025-01-01T00:00:00Z', spanEnd: '2025-01-31T00:00:00Z', spans: 1, pages: 0, requests: 0, durationMs: 0 };

  it("puts a span's pages and time on its first day, and names that query on its other days, never `pages 0`", () => {
    expect(dayReadText({ ...span, day: '2025-01-01', extracted: 51, pages: 4, requests: 5, durationMs: 2189 })).toBe(
      'query of 30 days from here: 4 pages in 2.2 s',
    );
    expect(dayReadText({ ...span, day: '2025-01-08', extracted: 116 })).toBe('in the query from 2025-01-01');
  });

  it('says a day without records has none, and whether a page was read to find it out', () => {
    expect(dayReadText({ ...span, day: '2025-01-11', extracted: 0 })).toBe('no records in the query from 2025-01-01');
    const day = { spanStart: '2025-01-05T00:00:00Z', spanEnd: '2025-01-06T00:00:00Z', day: '2025-01-05', extracted: 0, spans: 1 };
    expect(dayReadText({ ...day, pages: 0, requests: 1, durationMs: 40 })).toBe('no records: QBO counted none (query of this day, 1 request)');
    expect(dayReadText({ ...day, pages: 1, requests: 2, durationMs: 90 })).toBe('no records; query of this day: 1 page in 90 ms');
  });

  it("reads a crowded day in pieces, and a sync's part of a day, as queries of this day", () => {
    const day = { day: '2025-01-05', extracted: 25_000, pages: 25, requests: 28, durationMs: 61_000 };
    expect(dayReadText({ ...day, spanStart: '2025-01-05T00:00:00Z', spanEnd: '2025-01-06T00:00:00Z', spans: 3 })).toBe(
      '3 queries of this day: 25 pages in 61.0 s',
    );
    expect(dayReadText({ ...day, spanStart: '2025-01-05T06:00:00Z', spanEnd: '2025-01-05T07:00:00Z', spans: 1 })).toBe('query of this day: 25 pages in 61.0 s');
  });
});
