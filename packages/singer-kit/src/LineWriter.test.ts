import { describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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

  it('assembles a line from text and a byte range unchanged, in either encoding, and writes lines longer than a chunk whole', async () => {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(Buffer.from(chunk));
        done();
      },
    });
    const body = Buffer.from('xx{"Name":"Añil","Amt":1234567.10}yy', 'utf8');
    const start = body.indexOf('{');
    const end = body.lastIndexOf('}') + 1;
    const bytes = new LineWriter(sink, { chunkBytes: 16, encoding: 'latin1' });
    bytes.queueParts(Buffer.from('{"record":'), body, start, end, Buffer.from('}'));
    await bytes.writeLine(Buffer.from('{"é":1}', 'utf8').toString('latin1'));
    await bytes.flush();
    const text = new LineWriter(sink, { chunkBytes: 1024 });
    await text.writeLine('{"é":2}');
    await text.flush();
    expect(Buffer.concat(chunks).toString('utf8')).toBe('{"record":{"Name":"Añil","Amt":1234567.10}}\n{"é":1}\n{"é":2}\n');
    expect(chunks.every((c) => c.at(-1) === 0x0a)).toBe(true);
  });

  it('asks its caller to wait while the stream is full, and resumes on drain', async () => {
    const pending: Array<() => void> = [];
    const sink = new Writable({ highWaterMark: 8, write: (_chunk, _enc, done) => pending.push(done) });
    const writer = new LineWriter(sink, { chunkBytes: 8 });
    expect(writer.queueLine('aaaaaaa')).toBe(false); // fits the chunk: nothing written yet
    expect(writer.queueLine('bbbbbbb')).toBe(true); // the first chunk went out and filled the stream
    let flushed = false;
    const flush = writer.flush().then(() => (flushed = true));
    await new Promise((r) => setImmediate(r));
    expect(flushed).toBe(false);
    while (pending.length > 0) pending.shift()!();
    await flush;
    expect(flushed).toBe(true);
  });

  it('fills its chunks again once a file stream has written them, without mixing up lines', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'linewriter-'));
    try {
      const file = path.join(dir, 'out.jsonl');
      const out = createWriteStream(file);
      await once(out, 'open');
      const writer = new LineWriter(out, { chunkBytes: 64 });
      const expected: string[] = [];
      for (let i = 0; i < 2000; i++) {
        const line = JSON.stringify({ i, pad: 'x'.repeat(i % 50) });
        expected.push(line);
        await writer.writeLine(line);
      }
      await writer.flush();
      out.end();
      await once(out, 'finish');
      expect(readFileSync(file, 'utf8')).toBe(expected.map((l) => `${l}\n`).join(''));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
