import { describe, expect, it } from 'vitest';
import { EMPTY_INPUT_REASON, watchForEmptyInput } from './watchForEmptyInput.js';

/** An iterator over `items` that counts the reads made of it. */
function counted<T>(items: readonly T[]): { iterator: AsyncIterator<T>; reads: () => number } {
  let reads = 0;
  async function* generate(): AsyncGenerator<T> {
    for (const item of items) yield item;
  }
  const inner = generate();
  return {
    iterator: {
      next: () => {
        reads += 1;
        return inner.next();
      },
    },
    reads: () => reads,
  };
}

async function drain<T>(iterator: AsyncIterator<T>): Promise<T[]> {
  const out: T[] = [];
  for (let read = await iterator.next(); read.done !== true; read = await iterator.next()) out.push(read.value);
  return out;
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('watchForEmptyInput', () => {
  it('reads at once, and aborts endedEmpty when the input ended with nothing', async () => {
    const input = counted<string>([]);
    const { lines, endedEmpty } = watchForEmptyInput(input.iterator);
    expect(input.reads()).toBe(1);
    await settled();
    expect(endedEmpty.aborted).toBe(true);
    expect(endedEmpty.reason).toBe(EMPTY_INPUT_REASON);
    expect(await lines.next()).toEqual({ done: true, value: undefined });
  });

  it('hands every item on once, in order, and does not abort when there is one', async () => {
    const input = counted(['a', 'b', 'c']);
    const { lines, endedEmpty } = watchForEmptyInput(input.iterator);
    await settled();
    expect(endedEmpty.aborted).toBe(false);
    expect(await drain(lines)).toEqual(['a', 'b', 'c']);
    expect(input.reads()).toBe(4); // three items and the end: the first read was not repeated
    expect(endedEmpty.aborted).toBe(false);
  });

  it('leaves a failed read to the consumer: endedEmpty stays, the error comes with the first item', async () => {
    const failing: AsyncIterator<string> = { next: () => Promise.reject(new Error('EACCES')) };
    const { lines, endedEmpty } = watchForEmptyInput(failing);
    await settled();
    expect(endedEmpty.aborted).toBe(false);
    await expect(lines.next()).rejects.toThrow('EACCES');
  });
});
