/** The arena's block size; payloads up to a quarter of a block are copied into it (`keep`). */
const PAYLOAD_BLOCK_BYTES = 1024 * 1024;
/** The largest payload copied into an arena of PAYLOAD_BLOCK_BYTES blocks; larger ones stay where they are. */
export const LARGEST_COPIED_PAYLOAD_BYTES = PAYLOAD_BLOCK_BYTES >> 2;

/** The blocks holding one taken batch's payloads, given back once that batch is committed. */
export type ArenaBlocks = readonly Buffer[];

/**
 * Memory for the payloads of buffered records, reused batch after batch. A payload copied here
 * leaves the input chunk it came in free at once, and a committed batch's blocks hold the next
 * batches' payloads: no garbage collection is needed to give that memory back, so the resident
 * size stays flat without the full collections a heap of payloads (or of input chunks) needed.
 * A view handed out stays valid until `release` is called for the blocks taken with it.
 */
export class PayloadArena {
  readonly #blockBytes: number;
  readonly #maxSpare: number;
  readonly #spare: Buffer[] = [];
  #filling: Buffer[] = [];
  #block: Buffer | undefined;
  #used = 0;

  /** `maxSpare` blocks at most are kept for reuse (more are left to the garbage collector). */
  constructor(blockBytes = PAYLOAD_BLOCK_BYTES, maxSpare = 64) {
    this.#blockBytes = blockBytes;
    this.#maxSpare = maxSpare;
  }

  /** The payload (bytes, or text as UTF-8) in the arena; one larger than a quarter of a block is left where it is (text: in memory of its own). */
  keep(payload: Buffer | string): Buffer {
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    if (size > this.#blockBytes >> 2) return typeof payload === 'string' ? Buffer.from(payload) : payload;
    if (this.#block === undefined || this.#used + size > this.#blockBytes) {
      this.#block = this.#spare.pop() ?? Buffer.allocUnsafeSlow(this.#blockBytes);
      this.#filling.push(this.#block);
      this.#used = 0;
    }
    const at = this.#used;
    if (typeof payload === 'string') this.#block.write(payload, at, 'utf8');
    else payload.copy(this.#block, at);
    this.#used += size;
    return this.#block.subarray(at, at + size);
  }

  /** The blocks of every payload kept so far (the batch being taken); later payloads go to other blocks. */
  take(): ArenaBlocks {
    const taken = this.#filling;
    this.#filling = [];
    this.#block = undefined;
    return taken;
  }

  /** The batch kept in `blocks` is committed and will not be read again: its blocks are reused. */
  release(blocks: ArenaBlocks): void {
    for (const block of blocks) if (this.#spare.length < this.#maxSpare) this.#spare.push(block);
  }
}
