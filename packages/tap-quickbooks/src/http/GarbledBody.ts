import type { RawResponse } from './Transport.js';

/**
 * A 2xx answer whose body is not what was asked for: truncated, an HTML page, empty, JSON of
 * another shape. Thrown by the reader a request is sent with (`sendWithRetries`), which retries it
 * like a 5xx. Its message says what is wrong and never quotes the body: a page of records holds
 * a company's data, and an answer of the token endpoint holds tokens.
 */
export class GarbledBody extends Error {
  override readonly name = 'GarbledBody';
}

const isSpace = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * What is wrong at first sight with an answer that must be one JSON object, or undefined: looks
 * at its first and last bytes only (a page of a thousand records is scanned once, by its reader).
 */
export function objectBodyProblem(bytes: Buffer): string | undefined {
  let first = 0;
  while (first < bytes.length && isSpace(bytes[first])) first++;
  if (first === bytes.length) return 'empty body';
  if (bytes[first] === 0x3c) return 'not JSON (an HTML or XML page)';
  if (bytes[first] !== 0x7b) return 'not a JSON object';
  let last = bytes.length - 1;
  while (isSpace(bytes[last])) last--;
  if (bytes[last] !== 0x7d) return 'truncated JSON (it does not end with "}")';
  return undefined;
}

/**
 * How a garbled answer is named in a warning or an error, with what is safe to log: its status,
 * what is wrong, its content-type and size, and QBO's intuit_tid. Never any of its text.
 */
export function describeGarbled(response: RawResponse, problem: string): string {
  const type = response.headers['content-type'] ?? 'none';
  return `HTTP ${response.status} with a garbled body: ${problem} (content-type ${type}, ${response.bytes.length} bytes, intuit_tid ${response.tid ?? 'none'})`;
}
