import { describe, expect, it } from 'vitest';
import { connectAdvice, consoleLine, serverEndLine } from './demoMessages.js';

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

  it("ends with the console's URL, saying when it stopped with the demo", () => {
    expect(consoleLine(true, 'http://127.0.0.1:6789/')).toBe('Console: http://127.0.0.1:6789/');
    expect(consoleLine(false, 'http://127.0.0.1:6789/')).toBe(
      'Console: http://127.0.0.1:6789/ (it stopped with the demo; npm run demo -- --keep-running keeps it up until Ctrl-C)',
    );
  });
});
