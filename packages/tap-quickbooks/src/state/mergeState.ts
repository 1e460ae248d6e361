import { compactJson, objectMembers } from 'singer-kit';

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

/** An object's members as raw value texts, as JSON.parse reads them: a repeated key keeps its first place and its last value. */
function membersOf(objectText: string): Map<string, string> {
  const members = new Map<string, string>();
  for (const [key, raw] of objectMembers(objectText)) members.set(key, raw);
  return members;
}

const isObjectText = (raw: string | undefined): raw is string => raw !== undefined && raw.trimStart().startsWith('{');
const objectText = (members: ReadonlyMap<string, string>) => `{${[...members].map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;

/**
 * advanceBookmark on the state's JSON text: what the tap does not own (other bookmarks, other
 * keys of the stream's bookmark, every other top-level key) is carried as the very text it was
 * given, so a number such as 9007199254740993 keeps its digits, which a JSON.parse and
 * JSON.stringify round trip would round. `stateText` must be one JSON object (as normaliseState
 * accepted it); the result is on one line.
 */
export function advanceBookmarkText(stateText: string, stream: string, value: string): string {
  const top = membersOf(compactJson(stateText.trim(), true));
  const bookmarksRaw = top.get('bookmarks');
  const bookmarks = isObjectText(bookmarksRaw) ? membersOf(bookmarksRaw) : new Map<string, string>();
  const oldRaw = bookmarks.get(stream);
  const bookmark = isObjectText(oldRaw) ? membersOf(oldRaw) : new Map<string, string>();
  for (const key of TRANSIENT_KEYS) bookmark.delete(key);
  bookmark.set('replication_key', JSON.stringify(REPLICATION_KEY));
  bookmark.set('replication_key_value', JSON.stringify(value));
  bookmarks.set(stream, objectText(bookmark));
  top.set('bookmarks', objectText(bookmarks));
  return objectText(top);
}
