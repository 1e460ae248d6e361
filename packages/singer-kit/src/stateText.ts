import { jsonSyntaxProblem } from './jsonSyntax.js';
/** What a file given as Singer state holds. */
export type StateText =
  | { readonly kind: 'value'; readonly value: unknown }
  /** Several JSON lines: a state log (every line a target printed), of which only the last is the state. */
  | { readonly kind: 'log'; readonly lines: number }
  | { readonly kind: 'invalid'; readonly error: string };

/**
 * Reads the text of a state file: one JSON value, or a recognisable state log (one JSON value per
 * line, as `target | tee state.jsonl` leaves it), so callers can say "use its last line".
 */
export function parseStateText(text: string): StateText {
  try {
    return { kind: 'value', value: JSON.parse(text) };
  } catch (error) {
    const lines = text.split('\n').filter((line) => line.trim() !== '');
    if (lines.length > 1 && lines.every(isJsonLine)) return { kind: 'log', lines: lines.length };
    return { kind: 'invalid', error: jsonSyntaxProblem(error) };
  }
}

function isJsonLine(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}
