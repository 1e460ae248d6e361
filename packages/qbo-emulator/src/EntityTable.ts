import type { EntityInfo } from 'qbo-catalog';
import { ACTIVE, LOADED, type IndexArrays } from './generateIndex.js';
import { formatPacific } from './pacificTime.js';
import { renderRecord } from './recordTemplates.js';
import { rewriteMetaData } from './loadRecords.js';
import { objectMembers } from 'singer-kit';

/** A hard-deleted transaction, remembered for CDC. */
export interface DeletedRow {
  readonly id: number;
  readonly deletedSec: number;
}

/**
 * One entity's records: a compact index sorted by (LastUpdatedTime, Id) whose bodies are
 * rendered on demand, plus the texts of loaded records. Touching a record moves its row to
 * its new place; deleting one removes it (a name-list record is deactivated instead).
 */
export class EntityTable {
  #ids: Uint32Array;
  #created: Uint32Array;
  #updated: Uint32Array;
  #syncTokens: Uint16Array;
  #flags: Uint8Array;
  #size: number;
  readonly #loaded: Map<number, string>;
  readonly #deleted: DeletedRow[] = [];

  constructor(
    readonly info: EntityInfo,
    arrays: IndexArrays,
    loaded: Map<number, string>,
    private readonly seed: number,
    private readonly countOf: (entity: string) => number,
  ) {
    this.#ids = arrays.ids;
    this.#created = arrays.created;
    this.#updated = arrays.updated;
    this.#syncTokens = arrays.syncTokens;
    this.#flags = arrays.flags;
    this.#size = arrays.ids.length;
    this.#loaded = loaded;
  }

  get size(): number {
    return this.#size;
  }
  idAt(i: number): number {
    return this.#ids[i] as number;
  }
  updatedAt(i: number): number {
    return this.#updated[i] as number;
  }
  createdAt(i: number): number {
    return this.#created[i] as number;
  }
  isActive(i: number): boolean {
    return ((this.#flags[i] as number) & ACTIVE) !== 0;
  }
  get deleted(): readonly DeletedRow[] {
    return this.#deleted;
  }

  /** The record's JSON text, exactly as served. */
  textAt(i: number): string {
    const id = this.idAt(i);
    if ((this.#flags[i] as number) & LOADED) return this.#loaded.get(id) as string;
    return renderRecord(this.info.entity, {
      seed: this.seed,
      id,
      createSec: this.createdAt(i),
      updatedSec: this.updatedAt(i),
      syncToken: this.#syncTokens[i] as number,
      active: this.isActive(i),
      countOf: this.countOf,
    });
  }

  /** First position whose LastUpdatedTime is at or after `sec`. */
  lowerBound(sec: number): number {
    let lo = 0;
    let hi = this.#size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#updated[mid] as number) < sec) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  indexOfId(id: number): number {
    for (let i = 0; i < this.#size; i++) if (this.#ids[i] === id) return i;
    return -1;
  }

  /** Bumps row `i` to LastUpdatedTime `sec` and the next SyncToken; optionally deactivates it. */
  touch(i: number, sec: number, deactivate = false): void {
    const id = this.idAt(i);
    const created = this.createdAt(i);
    const syncToken = (this.#syncTokens[i] as number) + 1;
    let flags = this.#flags[i] as number;
    if (deactivate) flags &= ~ACTIVE;
    const loaded = this.#loaded.get(id);
    if (loaded !== undefined) this.#loaded.set(id, rewriteMetaData(loaded, formatPacific(sec), syncToken, deactivate));
    this.#removeAt(i);
    let at = this.lowerBound(sec);
    while (at < this.#size && this.#updated[at] === sec && (this.#ids[at] as number) < id) at++;
    this.#insertAt(at, id, created, sec, syncToken, flags);
  }

  /**
   * Edits row `i` as a user saving it in QBO: each of `members` (raw JSON texts, so amounts keep
   * every digit) replaces the member of that name or is added at the end, then the row is
   * touched (LastUpdatedTime `sec`, next SyncToken). From then on the row's body is that text.
   */
  edit(i: number, sec: number, members: Readonly<Record<string, string>>): void {
    const id = this.idAt(i);
    const current = objectMembers(this.textAt(i));
    const given = new Map(Object.entries(members));
    // Each must be one JSON value, or every page serving the row would be broken.
    for (const [key, raw] of given) {
      try {
        JSON.parse(raw);
      } catch {
        throw new SyntaxError(`${this.info.entity} ${id}: ${key} must be a JSON value's text, got ${raw}`);
      }
    }
    const edited = current.map(([key, raw]): [string, string] => [key, given.get(key) ?? raw]);
    for (const [key, raw] of given) if (!current.some(([k]) => k === key)) edited.push([key, raw]);
    this.#loaded.set(id, `{${edited.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);
    this.#flags[i] = (this.#flags[i] as number) | LOADED;
    this.touch(i, sec);
  }

  /** A new record created at `sec` with the next Id (QBO never reuses one, not even a deleted one's); returns its Id. */
  create(sec: number): number {
    let id = 1;
    for (let k = 0; k < this.#size; k++) id = Math.max(id, (this.#ids[k] as number) + 1);
    for (const d of this.#deleted) id = Math.max(id, d.id + 1);
    if (this.#size === this.#ids.length) {
      const grow = <T extends Uint32Array | Uint16Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const bigger = make(Math.max(8, a.length * 2));
        bigger.set(a);
        return bigger;
      };
      this.#ids = grow(this.#ids, (n) => new Uint32Array(n));
      this.#created = grow(this.#created, (n) => new Uint32Array(n));
      this.#updated = grow(this.#updated, (n) => new Uint32Array(n));
      this.#syncTokens = grow(this.#syncTokens, (n) => new Uint16Array(n));
      this.#flags = grow(this.#flags, (n) => new Uint8Array(n));
    }
    let at = this.lowerBound(sec);
    while (at < this.#size && this.#updated[at] === sec && (this.#ids[at] as number) < id) at++;
    this.#insertAt(at, id, sec, sec, 0, ACTIVE);
    return id;
  }

  /** Hard delete: the row is gone from queries and becomes a CDC `Deleted` stub. */
  delete(i: number, sec: number): void {
    this.#deleted.push({ id: this.idAt(i), deletedSec: sec });
    this.#loaded.delete(this.idAt(i));
    this.#removeAt(i);
  }

  #removeAt(i: number): void {
    for (const a of [this.#ids, this.#created, this.#updated, this.#syncTokens, this.#flags]) a.copyWithin(i, i + 1, this.#size);
    this.#size--;
  }

  #insertAt(i: number, id: number, created: number, updated: number, syncToken: number, flags: number): void {
    for (const a of [this.#ids, this.#created, this.#updated, this.#syncTokens, this.#flags]) a.copyWithin(i + 1, i, this.#size);
    this.#ids[i] = id;
    this.#created[i] = created;
    this.#updated[i] = updated;
    this.#syncTokens[i] = syncToken;
    this.#flags[i] = flags;
    this.#size++;
  }
}
