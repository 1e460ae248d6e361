import type { Row } from '../rows/Row.js';

/** Counts of one load-statistics group (stream × tap run id × extract window start). */
export interface GroupKey {
  readonly runId: string | null;
  readonly windowStart: string | null;
}

export interface ReceivedCounts extends GroupKey {
  /** Entity records (deletion records are counted in `deleted` only). */
  received: number;
  /** Records replaced inside the batch by a newer (or later) one with the same id. */
  deduplicated: number;
  /** Deletion records (`_sdc_deleted_at`) received. */
  deleted: number;
}

/** The load-statistics group (tap run id × extract window start) of a row or of ReceivedCounts, as a map key. */
export function groupKey(group: { readonly runId: string | null; readonly windowStart: string | null }): string {
  return `${group.runId ?? ''}\u0001${group.windowStart ?? ''}`;
}

/** True when `next` should replace `held` (same id): newer, or equal/unknown and later in input. */
export function supersedes(next: Row, held: Row): boolean {
  if (next.lastUpdated === null || held.lastUpdated === null) return true;
  return next.lastUpdated.micros >= held.lastUpdated.micros;
}

const size = (row: Row) => row.payload.length + (row.requestPayload?.length ?? 0);

/**
 * The records of one stream waiting for the next commit, one per id (newest wins while
 * buffering, so the upsert never meets an id twice), with row and byte counts for the flush policy.
 * Deletion records are held apart, one per id (the first): they are applied after the entity
 * records of the same commit, so a full record and its deletion in one batch keep the full payload.
 */
export class StreamBuffer {
  readonly #rows = new Map<string, Row>();
  readonly #deletions = new Map<string, Row>();
  readonly #groups = new Map<string, ReceivedCounts>();
  #bytes = 0;

  /** Records held (entity and deletion records). */
  get rows(): number {
    return this.#rows.size + this.#deletions.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  add(row: Row): void {
    if (row.deletedAt !== null) {
      this.#group(row).deleted += 1;
      if (!this.#deletions.has(row.id)) {
        this.#deletions.set(row.id, row);
        this.#bytes += size(row);
      }
      return;
    }
    this.#group(row).received += 1;
    const held = this.#rows.get(row.id);
    if (held === undefined) {
      this.#rows.set(row.id, row);
      this.#bytes += size(row);
      return;
    }
    if (supersedes(row, held)) {
      this.#rows.set(row.id, row);
      this.#bytes += size(row) - size(held);
      this.#group(held).deduplicated += 1;
    } else {
      this.#group(row).deduplicated += 1;
    }
  }

  /** Takes everything buffered, leaving the buffer empty. */
  take(): { readonly rows: Row[]; readonly deletions: Row[]; readonly groups: ReceivedCounts[] } {
    const taken = { rows: [...this.#rows.values()], deletions: [...this.#deletions.values()], groups: [...this.#groups.values()] };
    this.#rows.clear();
    this.#deletions.clear();
    this.#groups.clear();
    this.#bytes = 0;
    return taken;
  }

  #group(row: Row): ReceivedCounts {
    const windowStart = row.extractWindowStart?.text ?? null;
    const key = groupKey({ runId: row.runId, windowStart });
    let group = this.#groups.get(key);
    if (!group) {
      group = { runId: row.runId, windowStart, received: 0, deduplicated: 0, deleted: 0 };
      this.#groups.set(key, group);
    }
    return group;
  }
}
