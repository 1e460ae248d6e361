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

/**
 * QuickBooks' token shapes, redacted even where no process registered the value: a refresh token
 * (`AB11`, a timestamp, then base64url) or an access token (a JWE or JWT: `eyJ…` and dot-separated
 * parts) that a child printed past its logger (an error Node dumped whole, with its request's
 * Authorization header) reaches the runner's output, run logs and console as `[redacted]` too.
 * An access token starts where a run of `[\w-]` does, not after a hyphen inside one (`\b` would):
 * the text is scanned once, not again from each `eyJ` of a long hyphenated run.
 */
const TOKEN_SHAPES = /\bAB11\d{9,13}[\w-]{16,}|(?<![\w-])eyJ[\w-]{8,}\.[\w.-]{16,}/g;

export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join('[redacted]');
  }
  return out.includes('AB11') || out.includes('eyJ') ? out.replace(TOKEN_SHAPES, '[redacted]') : out;
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
