/**
 * Process-wide list of secret values that must never be printed. Every secret that enters
 * the process through settings or a token refresh is registered here, and the logger and
 * error printer pass their text through `redact` as a last line of defence. Longest first: a
 * secret that contains another (a refresh token that contains the client secret) is redacted
 * whole before the shorter one could cut it into visible pieces.
 */
let secrets: readonly string[] = [];

// Well-known default passwords (local and demo databases) are ordinary words in our own log
// lines ("target-postgres-raw"); redacting them would garble every line and protect nothing.
const NOT_SECRET = new Set(['postgres', 'password', 'changeme', 'admin123']);

export function registerSecret(value: string | undefined | null): void {
  // Very short values would redact ordinary words; real secrets are long.
  if (!value || value.length < 6 || NOT_SECRET.has(value.toLowerCase()) || secrets.includes(value)) return;
  secrets = [...secrets, value].sort((a, b) => b.length - a.length);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join('[redacted]');
  }
  return out;
}

/** A value that prints as `[redacted]` however it is logged, stringified or inspected. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
    registerSecret(value);
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'Secret([redacted])';
  }
}
