import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Secret } from 'singer-kit';

/** How long a sign-in lasts. */
const SESSION_TTL_MS = 12 * 3_600_000;
/** At most this many live sessions; signing in past it ends the oldest. */
export const MAX_SESSIONS = 1000;

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** True when `given` is the password; the comparison takes the same time whatever the input. */
export function passwordMatches(given: string, password: Secret): boolean {
  return timingSafeEqual(digest(given), digest(password.reveal()));
}

/**
 * Signed-in browsers, in memory: a random id (the cookie) → when it expires. A restart signs
 * everyone out, which is the safe direction. The id is never logged or rendered.
 */
export class Sessions {
  readonly #expires = new Map<string, number>();
  readonly #now: () => number;
  readonly #ttlMs: number;

  constructor(options: { readonly now?: () => number; readonly ttlMs?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#ttlMs = options.ttlMs ?? SESSION_TTL_MS;
  }

  create(): string {
    const id = randomBytes(32).toString('base64url');
    if (this.#expires.size >= MAX_SESSIONS) {
      const oldest = this.#expires.keys().next().value;
      if (oldest !== undefined) this.#expires.delete(oldest);
    }
    this.#expires.set(id, this.#now() + this.#ttlMs);
    return id;
  }

  valid(id: string | undefined): boolean {
    if (id === undefined) return false;
    const expires = this.#expires.get(id);
    if (expires === undefined) return false;
    if (expires <= this.#now()) {
      this.#expires.delete(id);
      return false;
    }
    return true;
  }

  end(id: string | undefined): void {
    if (id !== undefined) this.#expires.delete(id);
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }
}
