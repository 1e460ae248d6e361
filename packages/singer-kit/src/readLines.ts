import type { Readable } from 'node:stream';

export interface InputLine {
  readonly text: string;
  /** 1-based line number in the input, for error messages. */
  readonly number: number;
}

/**
 * Lines of a stream, in order, whatever the chunk boundaries; blank lines are skipped, `\r\n`
 * and a leading UTF-8 BOM are accepted. Pulls chunks only as fast as the caller consumes
 * lines, so a slow consumer (a database) holds the producer back instead of filling memory
 * (node's readline iterator buffers without bound).
 */
export async function* readLines(input: Readable): AsyncGenerator<InputLine> {
  input.setEncoding('utf8');
  let pending: string[] = [];
  let number = 0;
  const line = (raw: string): InputLine | undefined => {
    number += 1;
    let text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (number === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return text.trim() === '' ? undefined : { text, number };
  };
  for await (const chunk of input as AsyncIterable<string>) {
    let start = 0;
    let end = chunk.indexOf('\n');
    while (end !== -1) {
      const piece = chunk.slice(start, end);
      const next = line(pending.length === 0 ? piece : pending.join('') + piece);
      pending = [];
      if (next) yield next;
      start = end + 1;
      end = chunk.indexOf('\n', start);
    }
    // Pieces of a long line are joined once, when its end arrives.
    if (start < chunk.length) pending.push(chunk.slice(start));
  }
  if (pending.length > 0) {
    const last = line(pending.join(''));
    if (last) yield last;
  }
}
