import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CopyChunks } from './CopyChunks.js';

const CHUNK = 256 * 1024;

/** A COPY stream whose writes are called back only when the test says (a socket still sending them). */
function heldWrites(): { readonly copy: Writable; readonly written: Buffer[]; readonly callBack: () => void } {
  const pending: Array<() => void> = [];
  const written: Buffer[] = [];
  const copy = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk);
      pending.push(callback);
    },
  });
  return { copy, written, callBack: () => pending.shift()?.() };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('CopyChunks', () => {
  it('reuses a chunk only once its write is called back', async () => {
    const chunks = new CopyChunks(CHUNK);
    const first = chunks.take().fill(1);
    const second = chunks.take().fill(2);
    const { copy, written, callBack } = heldWrites();
    const sent = chunks.send(copy, [first, second]);
    await settled();
    expect(written.map((w) => w === first)).toEqual([true]);
    expect(chunks.take().buffer).not.toBe(first.buffer);
    callBack();
    await settled();
    expect(written.map((w, i) => w === [first, second][i])).toEqual([true, true]);
    expect(chunks.take().buffer).toBe(first.buffer);
    expect(chunks.take().buffer).not.toBe(second.buffer);
    callBack();
    await sent;
    expect(chunks.take().buffer).toBe(second.buffer);
  });

  it('reuses a chunk the stream took at once (its write called back on the next tick) for the next one', async () => {
    const chunks = new CopyChunks(CHUNK);
    const taken: ArrayBufferLike[] = [];
    function* source() {
      for (let i = 0; i < 3; i++) {
        const chunk = chunks.take();
        taken.push(chunk.buffer);
        yield chunk;
      }
    }
    await chunks.send(new Writable({ write: (_chunk, _encoding, callback) => callback() }), source());
    expect(new Set(taken).size).toBe(1);
  });

  it('never reuses a short chunk (a socket may still queue it when called back) nor a buffer it did not give', async () => {
    const chunks = new CopyChunks(CHUNK);
    const short = chunks.take().subarray(0, 1000);
    const other = Buffer.allocUnsafeSlow(CHUNK * 2);
    await chunks.send(
      new Writable({
        write: (_chunk, _encoding, callback) => callback(),
      }),
      [short, other, other.subarray(CHUNK)],
    );
    const next = chunks.take();
    expect([short.buffer, other.buffer]).not.toContain(next.buffer);
  });

  it("a failing source destroys the COPY stream (pg-copy-streams sends CopyFail) and throws the source's error once it closed", async () => {
    const chunks = new CopyChunks(CHUNK);
    const destroyedWith: unknown[] = [];
    let closed = false;
    const copy = new Writable({
      write: (_chunk, _encoding, callback) => callback(),
      destroy: (error, callback) => {
        destroyedWith.push(error);
        setImmediate(() => callback(error));
      },
    }).on('close', () => (closed = true));
    const failure = new Error('no such row');
    function* source() {
      yield chunks.take();
      throw failure;
    }
    await expect(chunks.send(copy, source())).rejects.toBe(failure);
    expect(destroyedWith).toEqual([failure]);
    expect(closed).toBe(true);
  });

  it("throws the COPY stream's own error (the server's) as it is, and stops taking chunks", async () => {
    const chunks = new CopyChunks(CHUNK);
    const serverError = Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' });
    const { copy } = heldWrites();
    let taken = 0;
    function* source() {
      for (;;) {
        taken += 1;
        yield chunks.take();
      }
    }
    const sent = chunks.send(copy, source());
    await settled();
    copy.emit('error', serverError);
    await expect(sent).rejects.toBe(serverError);
    expect(taken).toBe(1);
  });
});
