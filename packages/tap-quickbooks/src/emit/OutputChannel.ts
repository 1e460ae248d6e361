import { utf8ByteString, type LineWriter } from 'singer-kit';
import { advanceBookmark, advanceBookmarkText, type TapState } from '../state/mergeState.js';

/** Part of a block: one day's records, its evidence, and the STATE after it. */
export interface BlockPart {
  /** Writes the part's RECORD lines (UTF-8 byte strings or bytes) to the writer. */
  readonly records: (writer: LineWriter) => Promise<void>;
  readonly extra: ReadonlyArray<{ readonly stream: string; readonly record: unknown }>;
  readonly bookmark?: { readonly stream: string; readonly value: string } | undefined;
}

/**
 * Everything the tap writes to stdout, one block at a time: a span's records, its days'
 * evidence and the STATEs after them are never interleaved with another stream's block. Holds the
 * current state, so every STATE carries forward all other bookmarks.
 *
 * Lines are UTF-8 byte strings (see utf8ByteString) and the writer's stream takes them as latin1,
 * so record text cut from a response goes out as the very bytes QBO sent.
 */
export class OutputChannel {
  readonly #writer: LineWriter;
  #state: TapState;
  /** The state as JSON text: the input's own text, with only the bookmarks the tap advanced rewritten. */
  #stateText: string;
  #tail: Promise<void> = Promise.resolve();
  #closed = false;

  /** `initialText`: the input state's JSON text, when the tap was given one (its value is `initialState`). */
  constructor(writer: LineWriter, initialState: TapState, initialText: string = JSON.stringify(initialState)) {
    this.#writer = writer;
    this.#state = initialState;
    this.#stateText = initialText;
  }

  #writeStateLine(): Promise<void> {
    return this.#writer.writeLine(utf8ByteString(`{"type":"STATE","value":${this.#stateText}}`));
  }

  #writeJson(value: unknown): Promise<void> {
    return this.#writer.writeLine(utf8ByteString(JSON.stringify(value)));
  }

  get state(): TapState {
    return this.#state;
  }

  /** After a failure no further block is written: the last STATE stays the last complete window's. */
  close(): void {
    this.#closed = true;
  }

  #serial(block: () => Promise<void>): Promise<void> {
    const run = this.#tail.then(() => (this.#closed ? undefined : block()));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  writeState(): Promise<void> {
    return this.#serial(() => this.#writeStateLine());
  }

  writeSchema(stream: string, schema: unknown, keyProperties: readonly string[]): Promise<void> {
    return this.#serial(() => this.#writeJson({ type: 'SCHEMA', stream, schema, key_properties: keyProperties }));
  }

  /**
   * One block: for each part in order, its record lines, then its extra
   * records (evidence), then — when it has a bookmark — the advanced STATE; flushed as a whole.
   */
  writeBlock(parts: Iterable<BlockPart>): Promise<void> {
    return this.#serial(async () => {
      for (const part of parts) {
        await part.records(this.#writer);
        for (const e of part.extra) await this.#writeJson({ type: 'RECORD', stream: e.stream, record: e.record });
        if (part.bookmark) {
          this.#state = advanceBookmark(this.#state, part.bookmark.stream, part.bookmark.value);
          this.#stateText = advanceBookmarkText(this.#stateText, part.bookmark.stream, part.bookmark.value);
          await this.#writeStateLine();
        }
      }
      await this.#writer.flush();
    });
  }

  flush(): Promise<void> {
    return this.#serial(() => this.#writer.flush());
  }
}
