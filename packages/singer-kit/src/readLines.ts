import type { Readable } from 'node:stream';

export interface InputLine {
  readonly text: string;
  /** 1-based line number in the input, for error messages. */
  readonly number: number;
}

/** A line as the bytes it came in (UTF-8 expected, not checked). */
export interface InputLineBytes {
  readonly bytes: Buffer;
  /** 1-based line number in the input, for error messages. */
  readonly number: number;
}

const LF = 0x0a;
const CR = 0x0d;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * The lines of a stream (or of any chunks of bytes) as bytes, in order, whatever the chunk boundaries, yielded as the lines
 * each chunk completes (one await per chunk, not per line). Blank lines are skipped, `\r\n` and a
 * leading UTF-8 BOM are accepted. A line inside one chunk is a view of that chunk (no copy). Pulls
 * chunks only as fast as the caller consumes them, so a slow consumer (a database) holds the
 * producer back instead of filling memory.
 */
export async function* readLineBytes(input: Readable | AsyncIterable<Buffer>): AsyncGenerator<InputLineBytes[]> {
  let pending: Buffer[] = [];
  let number = 0;
  const line = (raw: Buffer): InputLineBytes | undefined => {
    number += 1;
    let bytes = raw.length > 0 && raw[raw.length - 1] === CR ? raw.subarray(0, raw.length - 1) : raw;
    if (number === 1 && bytes.subarray(0, 3).equals(BOM)) bytes = bytes.subarray(3);
    // A line that starts a JSON object is not blank; any other is judged as text (Unicode spaces too).
    if (bytes[0] !== 0x7b && bytes.toString('utf8').trim() === '') return undefined;
    return { bytes, number };
  };
  for await (const data of input as AsyncIterable<Buffer | string>) {
    const chunk = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const lines: InputLineBytes[] = [];
    let start = 0;
    let end = chunk.indexOf(LF);
    while (end !== -1) {
      const piece = chunk.subarray(start, end);
      const next = line(pending.length === 0 ? piece : Buffer.concat([...pending, piece]));
      pending = [];
      if (next) lines.push(next);
      start = end + 1;
      end = chunk.indexOf(LF, start);
    }
    // Pieces of a long line are joined once, when its end arrives.
    if (start < chunk.length) pending.push(chunk.subarray(start));
    if (lines.length > 0) yield lines;
  }
  if (pending.length > 0) {
    const last = line(Buffer.concat(pending));
    if (last) yield [last];
  }
}

/**
 * Lines of a stream as text, in order, whatever the chunk boundaries (readLineBytes, each line
 * decoded as UTF-8; invalid bytes read as U+FFFD).
 */
export async function* readLines(input: Readable): AsyncGenerator<InputLine> {
  for await (const lines of readLineBytes(input)) {
    for (const { bytes, number } of lines) yield { text: bytes.toString('utf8'), number };
  }
}
