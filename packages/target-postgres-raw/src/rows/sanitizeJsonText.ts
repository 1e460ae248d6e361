export interface SanitizedJson {
  readonly text: string;
  /** How many `\u0000` or unpaired surrogate escapes were replaced by `\ufffd`. */
  readonly replaced: number;
}

// An escaped backslash is consumed first, so `\\u0000` (a literal backslash then "u0000") is never
// taken for an escape; a surrogate pair is matched whole and kept.
const ESCAPES = /\\\\|\\u0000|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[dD][89a-fA-F][0-9a-fA-F]{2}/g;

/**
 * jsonb cannot store U+0000 or a lone UTF-16 surrogate and rejects the whole batch for one of
 * them. This replaces exactly those escapes with `\ufffd` in JSON text and keeps every other
 * byte, numbers included. Raw (unescaped) NUL cannot occur in valid JSON text, and invalid
 * UTF-8 has already been decoded to U+FFFD by Node.
 */
export function sanitizeJsonText(text: string): SanitizedJson {
  if (!text.includes('\\u')) return { text, replaced: 0 };
  let replaced = 0;
  const out = text.replace(ESCAPES, (match) => {
    if (match.length === 2 || match.length === 12) return match; // `\\` or a valid pair
    replaced += 1;
    return '\\ufffd';
  });
  return { text: replaced === 0 ? text : out, replaced };
}
