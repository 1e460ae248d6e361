import type { HashedRow } from '../rows/rowColumns.js';

export interface Split {
  /** Ids with no stored row: copied straight into the table, in byte order of their ids. */
  readonly fresh: HashedRow[];
  /** Ids whose stored payload has the same SHA-256: nothing to write. */
  readonly unchanged: HashedRow[];
  /** The rest (a different payload, or a stored row without a hash): the upsert decides. */
  readonly staged: HashedRow[];
}

/** Sorts the rows of one batch by what their stored rows (id → payload hash as hex, or null; from readStoredHashes) ask for. */
export function splitByStoredHash(rows: readonly HashedRow[], stored: ReadonlyMap<string, string | null>): Split {
  const split: Split = { fresh: [], unchanged: [], staged: [] };
  for (const h of rows) {
    const hash = stored.get(h.row.id);
    if (hash === undefined) split.fresh.push(h);
    else if (hash === h.hash) split.unchanged.push(h);
    else split.staged.push(h);
  }
  // UTF-16 order, which is byte order for every id but a few beyond U+FFFF: the lock order matters, not the sort.
  split.fresh.sort((a, b) => (a.row.id < b.row.id ? -1 : a.row.id > b.row.id ? 1 : 0));
  return split;
}
