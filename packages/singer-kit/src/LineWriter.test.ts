import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { LineWriter } from './LineWriter.js';
import { OutputClosedError } from './errors.js';

describe('LineWriter', () => {
  it('writes whole lines only, in order, in few large writes', async () => {
    const writes: string[] = [];
    const sink = new Writable({
      highWaterMark: 16,
      write(chunk, _enc, done) {
        writes.push(String(chunk));
        setImmediate(done);
      },
    });
    const writer = new LineWriter(sink, { chunkBytes: 100 });
    for (let i = 0; i < 50; i++) await writer.writeJson({ type: 'RECORD', i });
    await writer.flush();
    for (const w of writes) expect(w.endsWith('\n')).toBe(true);
    const lines = writes.join('').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).i)).toEqual([...Array(50).keys()]);
    expect(writes.length).toBeLessThan(50);
  });

  it('turns a closed reader (EPIPE) into OutputClosedError', async () => {
    const sink = new Writable({
      write(_chunk, _enc, done) {
        const error: NodeJS.ErrnoException = new Error('write EPIPE');
        error.code = 'EPIPE';
        done(error);
      },
    });
    const writer = new LineWriter(sink, { chunkBytes: 1 });
    await writer.writeLine('{"type":"STATE","value":{}}').catch(() => undefined);
    await new Promise((r) => setImmediate(r));
    await expect(writer.writeLine('{"type":"STATE","value":{}}')).rejects.toBeInstanceOf(OutputClosedError);
  });
});
