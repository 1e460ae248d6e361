import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export interface InputLine {
  readonly text: string;
  /** 1-based line number in the input, for error messages. */
  readonly number: number;
}

/** Lines of a stream, in order, whatever the chunk boundaries; blank lines are skipped. */
export async function* readLines(input: Readable): AsyncGenerator<InputLine> {
  const reader = createInterface({ input, crlfDelay: Infinity });
  let number = 0;
  for await (const text of reader) {
    number += 1;
    if (text.trim() === '') continue;
    yield { text, number };
  }
}
