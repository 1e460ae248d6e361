import type { RecordFacts, Row, SkippedRecord } from '../rows/Row.js';

/** Counts of one load-statistics group (stream × tap run id × extract window start). */
interface GroupKey {
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
  /** Records found equal to their stored row before they were parsed (never written): unchanged. */
  skipped: number;
}

/** The load-statistics group (tap run id × extract window start) of a row or of ReceivedCounts, as a map key. */
export function groupKey(group: { readonly runId: string | null; readonly windowStart: string | null }): string {
  return `${group.runId ?? ''}\u0001${group.windowStart ?? ''}`;
}

/** True when `next` should replace `held` (same id): newer, or equal/unknown and later in input. */
function supersedes(next: RecordFacts, held: RecordFacts): boolean {
  if (next.lastUpdated === null || held.lastUpdated === null) return true;
  return next.lastUpdated.micros >= held.lastUpdated.micros;
}

const isSkipped = (held: Row | SkippedRecord): held is SkippedRecord => 'skipped' in held;
const size = (held: Row | SkippedRecord) => (isSkipped(held) ? 0 : held.payload.length + (held.requestPayload?.length ?? 0));

/** What a stream's buffer holds for one commit. */
export interface TakenStream {
  /** Entity records to write, one per id. */
  readonly rows: Row[];
  readonly deletions: Row[];
  readonly groups: ReceivedCounts[];
}

/**
 * The records of one stream waiting for the next commit, one per id (newest wins while
 * buffering, so the upsert never meets an id twice), with row and byte counts for the flush policy.
 * A record skipped as unchanged takes part like any other (a later newer record replaces it, an
 * older one is replaced by it) and is counted unchanged if it stays.
 * Deletion records are held apart, one per id (the first): they are applied after the entity
 * records of the same commit, so a full record and its deletion in one batch keep the full payload
 * (an entity record reviving the row of a held deletion waits for a commit: waitsForCommit).
 */
export class StreamBuffer {
  readonly #held = new Map<string, Row | SkippedRecord>();
  readonly #deletions = new Map<string, Row>();
  readonly #groups = new Map<string, ReceivedCounts>();
  #lastGroup: ReceivedCounts | undefined;
  #bytes = 0;

  /** Records held (entity, skipped and deletion records). */
  get rows(): number {
    return this.#held.size + this.#deletions.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /**
   * True when `record` must wait until what is held is committed: an entity record that makes the
   * row of a held deletion alive again, being newer than the deletion or without a time (then the
   * later in the input wins, unless it equals the payload the row holds by then). One commit
   * cannot keep that order (it applies deletions after its entity records, and keeps a record's
   * first deletion only, so a later one would be lost).
   */
  waitsForCommit(record: Row | SkippedRecord): boolean {
    if (!isSkipped(record) && record.deletedAt !== null) return false;
    const deletedAt = this.#deletions.get(record.id)?.deletedAt ?? undefined;
    return deletedAt !== undefined && (record.lastUpdated === null || record.lastUpdated.micros > deletedAt.micros);
  }

  add(row: Row | SkippedRecord): void {
    if (!isSkipped(row) && row.deletedAt !== null) {
      this.#group(row).deleted += 1;
      if (!this.#deletions.has(row.id)) {
        this.#deletions.set(row.id, row);
        this.#bytes += size(row);
      }
      return;
    }
    const group = this.#group(row);
    group.received += 1;
    const held = this.#held.get(row.id);
    if (held === undefined) {
      this.#held.set(row.id, row);
      this.#bytes += size(row);
      if (isSkipped(row)) group.skipped += 1;
      return;
    }
    if (supersedes(row, held)) {
      this.#held.set(row.id, row);
      this.#bytes += size(row) - size(held);
      const heldGroup = this.#group(held);
      heldGroup.deduplicated += 1;
      if (isSkipped(held)) heldGroup.skipped -= 1;
      if (isSkipped(row)) group.skipped += 1;
    } else {
      group.deduplicated += 1;
    }
  }

  /** Takes everything buffered, leaving the buffer empty. */
  take(): TakenStream {
    const rows: Row[] = [];
    for (const held of this.#held.values()) if (!isSkipped(held)) rows.push(held);
    const taken = { rows, deletions: [...this.#deletions.values()], groups: [...this.#groups.values()] };
    this.#held.clear();
    this.#deletions.clear();
    this.#groups.clear();
    this.#lastGroup = undefined;
    this.#bytes = 0;
    return taken;
  }

  #group(row: RecordFacts): ReceivedCounts {
    const windowStart = row.extractWindowStart?.text ?? null;
    // Records of one group mostly come together: the last group is asked first (no key made per record).
    const last = this.#lastGroup;
    if (last !== undefined && last.runId === row.runId && last.windowStart === windowStart) return last;
    const key = groupKey({ runId: row.runId, windowStart });
    let group = this.#groups.get(key);
    if (!group) {
      group = { runId: row.runId, windowStart, received: 0, deduplicated: 0, deleted: 0, skipped: 0 };
      this.#groups.set(key, group);
    }
    this.#lastGroup = group;
    return group;
  }
}
