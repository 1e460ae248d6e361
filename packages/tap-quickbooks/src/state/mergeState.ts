export const REPLICATION_KEY = 'MetaData.LastUpdatedTime';

export type TapState = { readonly bookmarks?: Readonly<Record<string, Readonly<Record<string, unknown>>>>; readonly [key: string]: unknown };

/** Bookkeeping keys of the SDK that a completed run's state must not carry (D4). */
const TRANSIENT_KEYS = ['progress_markers', 'replication_key_signpost', 'starting_replication_value'];

/** The input state as an object; anything else (null, an array) counts as no state. */
export function normaliseState(input: unknown): TapState {
  return typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as TapState) : {};
}

export type BookmarkLookup =
  { readonly kind: 'none' } | { readonly kind: 'found'; readonly value: string } | { readonly kind: 'other-key'; readonly key: string };

/** A stream's bookmark value, if it was written for our replication key (D12). */
export function lookupBookmark(state: TapState, stream: string): BookmarkLookup {
  const bookmark = state.bookmarks?.[stream];
  if (!bookmark) return { kind: 'none' };
  const key = bookmark.replication_key;
  if (key !== undefined && key !== REPLICATION_KEY) return { kind: 'other-key', key: typeof key === 'string' ? key : JSON.stringify(key) };
  const value = bookmark.replication_key_value;
  return typeof value === 'string' ? { kind: 'found', value } : { kind: 'none' };
}

/**
 * A new state with `stream`'s bookmark at `value` (the end of its last complete window);
 * every other bookmark and top-level key is carried forward untouched (D10, D11).
 */
export function advanceBookmark(state: TapState, stream: string, value: string): TapState {
  const old = state.bookmarks?.[stream] ?? {};
  const kept = Object.fromEntries(Object.entries(old).filter(([k]) => !TRANSIENT_KEYS.includes(k)));
  return {
    ...state,
    bookmarks: { ...state.bookmarks, [stream]: { ...kept, replication_key: REPLICATION_KEY, replication_key_value: value } },
  };
}
