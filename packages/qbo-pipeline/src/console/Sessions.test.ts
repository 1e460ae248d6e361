import { describe, expect, it } from 'vitest';
import { Secret } from 'singer-kit';
import { MAX_SESSIONS, passwordMatches, Sessions } from './Sessions.js';

describe('Sessions', () => {
  it('knows a session until it expires or ends', () => {
    let now = 1_000;
    const sessions = new Sessions({ now: () => now, ttlMs: 100 });
    const id = sessions.create();
    expect(id).toMatch(/^[\w-]{43}$/);
    expect(sessions.valid(id)).toBe(true);
    expect(sessions.valid('forged')).toBe(false);
    expect(sessions.valid(undefined)).toBe(false);
    now += 100;
    expect(sessions.valid(id)).toBe(false);
    const other = sessions.create();
    sessions.end(other);
    expect(sessions.valid(other)).toBe(false);
  });

  it('ends the oldest session past the limit', () => {
    const sessions = new Sessions();
    const first = sessions.create();
    for (let i = 0; i < MAX_SESSIONS; i++) sessions.create();
    expect(sessions.valid(first)).toBe(false);
  });

  it('compares passwords exactly', () => {
    const password = new Secret('correct horse battery');
    expect(passwordMatches('correct horse battery', password)).toBe(true);
    expect(passwordMatches('correct horse battery ', password)).toBe(false);
    expect(passwordMatches('', password)).toBe(false);
  });
});
