import { describe, expect, it } from 'vitest';
import { usageMessage } from './usageMessage.js';

describe('usageMessage', () => {
  it('says a command was not known when yargs only recommends one', () => {
    expect(usageMessage('Did you mean backfill?', ['backfil'])).toBe('unknown command; did you mean backfill? (--help lists the commands)');
  });

  it('writes an unknown option as it was typed, and a stray word in quotes', () => {
    expect(usageMessage('Unknown argument: stream', ['backfill', '--stream', 'invoices'])).toBe(
      'unknown argument --stream (--help lists the commands and options)',
    );
    expect(usageMessage('Unknown arguments: stream, x, frobnicate', ['backfill', '--stream=invoices', '-x', 'frobnicate'])).toBe(
      'unknown arguments --stream, -x, "frobnicate" (--help lists the commands and options)',
    );
  });

  it('names the options still to give as they are typed', () => {
    expect(usageMessage('Missing required arguments: start, end', ['backfill'])).toBe('give --start and --end (--help says what each takes)');
    expect(usageMessage('Missing required argument: at', ['trigger', 'add'])).toBe('give --at (--help says what each takes)');
  });

  it('leaves every other message as it is', () => {
    expect(usageMessage('say trigger add or trigger list', ['trigger'])).toBe('say trigger add or trigger list');
  });
});
