/**
 * Exact JSON by text: find and splice values inside JSON text without parsing numbers, so
 * money such as `1234567.10` or `275.0` keeps its digits byte for byte. The input is assumed
 * to be valid JSON (callers JSON.parse it too, which also validates it); the scanner only
 * tracks strings and nesting.
 */

/**
 * JSON's whitespace (space, LF, CR, tab), by char code or byte; undefined (past the end of a
 * Buffer) is not. Comparisons, not a Set: this runs on every byte of every page.
 */
export function isJsonWhitespace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipWs(text: string, i: number): number {
  while (i < text.length && isJsonWhitespace(text.charCodeAt(i))) i++;
  return i;
}

function endOfString(text: string, i: number): number {
  // text[i] is the opening quote; jump from quote to quote natively, and skip quotes that an
  // odd run of backslashes escapes (this is the hot path of every record).
  let from = i + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) throw new SyntaxError('unterminated JSON string');
    let backslashes = 0;
    while (text.charCodeAt(q - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** Regex source of one JSON string, whatever it holds. */
const STRING_SOURCE = '"[^"\\\\]*(?:\\\\.[^"\\\\]*)*"';

/**
 * Regex source matching the content of a JSON container nested up to 6 levels deep: characters
 * outside strings, strings (whatever they hold) and whole containers, up to a closing bracket of
 * the level it started on (or the opening bracket of a container nested deeper).
 */
const NESTED_LEVEL = (() => {
  const plain = '[^"{}[\\]]*';
  let level = `${plain}(?:${STRING_SOURCE}${plain})*`;
  for (let k = 0; k < 6; k++) level = `${plain}(?:(?:${STRING_SOURCE}|[{[]${level}[}\\]])${plain})*`;
  return level;
})();
/** Regex source of one container nested up to 7 levels. */
const CONTAINER_SOURCE = `[{[]${NESTED_LEVEL}[}\\]]`;

/**
 * One JSON string, or one container nested up to 7 levels: a native regex step instead of a call
 * per character. A deeper container, or text that is not JSON, does not match, and endOfValue's
 * character loop decides.
 */
const STRING_VALUE = new RegExp(STRING_SOURCE, 'y');
/** A JSON string without escapes. */
const PLAIN_STRING = /"[^"\\]*"/y;
const CONTAINER_VALUE = new RegExp(CONTAINER_SOURCE, 'y');

/** Where `pattern` matching at `i` ends, or -1 (also when the regex engine runs out of stack on a huge value). */
function matchEnd(pattern: RegExp, text: string, i: number): number {
  pattern.lastIndex = i;
  try {
    return pattern.test(text) ? pattern.lastIndex : -1;
  } catch {
    return -1;
  }
}

/** A pattern made by membersSkipper. */
export type MembersSkipper = RegExp & { readonly __membersSkipper: true };

const escapeRegExp = (text: string) => text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

/**
 * A pattern for passMembers: it passes over the members of an object written compactly
 * (`"key":value,` — no whitespace, no escape in the key, containers nested up to 7 levels)
 * whose key is none of `keys` and starts with none of `prefixes`.
 */
export function membersSkipper(keys: readonly string[], prefixes: readonly string[]): MembersSkipper {
  const wanted = [...(keys.length > 0 ? [`(?:${keys.map(escapeRegExp).join('|')})"`] : []), ...prefixes.map(escapeRegExp)];
  const notWanted = wanted.length > 0 ? `(?!${wanted.join('|')})` : '';
  const value = `(?:${STRING_SOURCE}|${CONTAINER_SOURCE}|-?[0-9][-+.0-9eE]*|true|false|null)`;
  return new RegExp(`(?:"${notWanted}[^"\\\\]*":${value},)*`, 'y') as MembersSkipper;
}

/**
 * Passes over the members starting at `i` (a key's opening quote) that `skipper` passes over, each
 * with the comma after it, in one native regex step: returns where the first member it stops at
 * starts (or what follows the last comma), `i` when it passed none. It stops at a wanted member,
 * at one it cannot pass this way (whitespace, an escaped key, deeper nesting, text that is not
 * JSON) and at the object's last member; the caller reads those itself.
 */
export function passMembers(skipper: MembersSkipper, text: string, i: number): number {
  const end = matchEnd(skipper, text, i);
  return end < 0 ? i : end;
}

/** Index just past the JSON value that starts at `i` (after whitespace). */
export function endOfValue(text: string, i: number): number {
  i = skipWs(text, i);
  const c = text.charCodeAt(i);
  if (c === 0x22) {
    const end = matchEnd(STRING_VALUE, text, i);
    return end >= 0 ? end : endOfString(text, i);
  }
  if (c === 0x7b || c === 0x5b) {
    const end = matchEnd(CONTAINER_VALUE, text, i);
    if (end >= 0) return end;
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text.charCodeAt(j);
      if (d === 0x22) j = endOfString(text, j) - 1;
      else if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    throw new SyntaxError('unterminated JSON container');
  }
  let j = i;
  while (j < text.length) {
    const d = text.charCodeAt(j);
    if (d === 0x2c || d === 0x7d || d === 0x5d || isJsonWhitespace(d)) break;
    j++;
  }
  if (j === i) throw new SyntaxError(`unexpected character at ${i}`);
  return j;
}

/**
 * Walks the members of the JSON object at `start` (after whitespace), in order, without decoding
 * keys: `member` gets where the key starts (its opening quote), where it ends (past its closing
 * quote), where the value starts and whether the key has no escapes (its text between the quotes
 * is the key), and returns where the value ends, or -1 to stop. Returns the index just past the
 * object, or -1 when stopped.
 */
function forEachMemberAt(text: string, start: number, member: (keyStart: number, keyEnd: number, valueStart: number, plainKey: boolean) => number): number {
  let i = skipWs(text, start);
  if (text.charCodeAt(i) !== 0x7b) throw new SyntaxError('not a JSON object');
  i = skipWs(text, i + 1);
  if (text.charCodeAt(i) === 0x7d) return i + 1;
  for (;;) {
    if (text.charCodeAt(i) !== 0x22) throw new SyntaxError('expected a key in JSON object');
    const plainEnd = matchEnd(PLAIN_STRING, text, i);
    const plainKey = plainEnd >= 0;
    const keyEnd = plainKey ? plainEnd : endOfString(text, i);
    let colon = keyEnd;
    if (text.charCodeAt(colon) !== 0x3a) colon = skipWs(text, colon);
    if (text.charCodeAt(colon) !== 0x3a) throw new SyntaxError('expected ":" in JSON object');
    let valueStart = colon + 1;
    if (isJsonWhitespace(text.charCodeAt(valueStart))) valueStart = skipWs(text, valueStart);
    const valueEnd = member(i, keyEnd, valueStart, plainKey);
    if (valueEnd < 0) return -1;
    i = valueEnd;
    if (isJsonWhitespace(text.charCodeAt(i))) i = skipWs(text, i);
    const sep = text.charCodeAt(i);
    if (sep === 0x7d) return i + 1;
    if (sep !== 0x2c) throw new SyntaxError('expected "," or "}" in JSON object');
    i = skipWs(text, i + 1);
  }
}

/** The JSON string whose text (quotes included) is text[start, end), decoded; `plain`: it has no escapes. */
export function stringAt(text: string, start: number, end: number, plain = !text.slice(start, end).includes('\\')): string {
  // Slicing is much cheaper than JSON.parse, and gives the same string when there is no escape.
  return plain ? text.slice(start + 1, end - 1) : (JSON.parse(text.slice(start, end)) as string);
}

/**
 * Walks the members of the JSON object at `start` (after whitespace), in order: `member` gets
 * each key (decoded), where the member's key and its value start, and returns where the value
 * ends (it often needs that end anyway), or -1 to stop. Returns the index just past the object,
 * or -1 when stopped.
 */
export function forEachMember(text: string, start: number, member: (key: string, keyStart: number, valueStart: number) => number): number {
  return forEachMemberAt(text, start, (keyStart, keyEnd, valueStart, plain) => member(stringAt(text, keyStart, keyEnd, plain), keyStart, valueStart));
}

/** forEachMember with each value's bounds; `visit` returns true to stop early (a member found needs no scan of the members after it). */
function walkMembers(objectText: string, visit: (key: string, valueStart: number, valueEnd: number) => boolean): void {
  forEachMember(objectText, 0, (key, _keyStart, valueStart) => {
    const valueEnd = endOfValue(objectText, valueStart);
    return visit(key, valueStart, valueEnd) ? -1 : valueEnd;
  });
}

/** The members of a JSON object as [key, raw value text] pairs, in order. */
export function objectMembers(objectText: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  walkMembers(objectText, (key, start, end) => {
    out.push([key, objectText.slice(start, end)]);
    return false;
  });
  return out;
}

/**
 * The raw text of a member's value, or undefined: of a repeated key the first (the scan stops
 * there), or with `last` the last, the one JSON.parse (and jsonb) keeps (every member is scanned).
 */
export function memberText(objectText: string, key: string, last = false): string | undefined {
  let found: string | undefined;
  walkMembers(objectText, (k, start, end) => {
    if (k !== key) return false;
    found = objectText.slice(start, end);
    return !last;
  });
  return found;
}

/** The elements of a JSON array as raw texts, in order. */
export function arrayElements(arrayText: string): string[] {
  const out: string[] = [];
  let i = skipWs(arrayText, 0);
  if (arrayText.charCodeAt(i) !== 0x5b) throw new SyntaxError('not a JSON array');
  i = skipWs(arrayText, i + 1);
  if (arrayText.charCodeAt(i) === 0x5d) return out;
  for (;;) {
    const end = endOfValue(arrayText, i);
    out.push(arrayText.slice(i, end));
    i = skipWs(arrayText, end);
    const sep = arrayText.charCodeAt(i);
    if (sep === 0x5d) return out;
    if (sep !== 0x2c) throw new SyntaxError('expected "," or "]" in JSON array');
    i = skipWs(arrayText, i + 1);
  }
}

/**
 * Removes whitespace outside strings so a value fits on one line; cheap when already on one line,
 * which it then leaves as it is unless `everySpace` (also `{"a": 1}` becomes `{"a":1}`).
 */
export function compactJson(text: string, everySpace = false): string {
  // includes() is much faster than a regex test on long texts, and this is on every record.
  if (!everySpace && !text.includes('\n') && !text.includes('\r')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = endOfString(text, i);
      out += text.slice(i, end);
      i = end - 1;
    } else if (!isJsonWhitespace(c)) out += text[i];
  }
  return out;
}

/** Members as object-body text (`"k":v,"k2":v2`): keys JSON-encoded, values given as raw JSON text. */
export function membersText(members: ReadonlyArray<readonly [string, string]>): string {
  return members.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',');
}

/** Object text with `members` (from membersText, often computed once for many objects) appended. */
export function appendMembersText(objectText: string, members: string): string {
  if (members === '') return objectText;
  const close = objectText.lastIndexOf('}');
  if (close < 0) throw new SyntaxError('not a JSON object');
  let last = close - 1;
  while (last >= 0 && isJsonWhitespace(objectText.charCodeAt(last))) last--;
  const empty = objectText.charCodeAt(last) === 0x7b;
  return objectText.slice(0, last + 1) + (empty ? members : `,${members}`) + '}';
}

/** Object text keeping only the members whose key passes `keep`, in their original order and bytes. */
export function pickMembers(objectText: string, keep: (key: string) => boolean): string {
  const members = objectMembers(objectText).filter(([k]) => keep(k));
  return `{${members.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
}

/** Index of `keys` equal to the key whose text (quotes excluded) is text[start, end), or -1. */
function wantedKey(text: string, start: number, end: number, keys: readonly string[]): number {
  const length = end - start;
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    if (key.length === length && text.startsWith(key, start)) return k;
  }
  let escaped = false;
  for (let i = start; i < end && !escaped; i++) escaped = text.charCodeAt(i) === 0x5c;
  if (!escaped) return -1;
  const decoded = JSON.parse(text.slice(start - 1, end + 1)) as string;
  return keys.indexOf(decoded);
}

/**
 * From a position outside strings, passes over strings (whatever they hold), other characters and
 * whole containers nested up to 6 levels deep in one native regex step; it stops at a closing
 * bracket of the level it started on, or at the opening bracket of a container nested deeper
 * (scanned bracket by bracket then).
 */
const TO_LEVEL_END = new RegExp(NESTED_LEVEL, 'y');

/**
 * Scans the object at `start` once: returns the index just past it, and fills `spans` with the
 * value bounds of each of `keys` among its own members (spans[2k], spans[2k+1]; -1 when absent;
 * of a repeated key the last, the one JSON.parse keeps, so every member's key is read).
 */
function scanObject(text: string, start: number, keys: readonly string[], otherMembers: MembersSkipper, spans: Int32Array): number {
  spans.fill(-1);
  let depth = 0;
  let expectKey = false;
  let reading = -1; // the wanted key whose value is being passed over
  let j = start;
  while (j < text.length) {
    if (depth >= 2) {
      // Inside a member's value: nothing to note before its closing bracket, nested containers
      // passed whole (an unterminated string stops the match at its quote).
      TO_LEVEL_END.lastIndex = j;
      TO_LEVEL_END.test(text);
      j = TO_LEVEL_END.lastIndex;
      if (j >= text.length) break;
    }
    const c = text.charCodeAt(j);
    if (c === 0x22) {
      const end = endOfString(text, j);
      if (expectKey && depth === 1) {
        expectKey = false;
        reading = wantedKey(text, j + 1, end - 1, keys);
        if (reading >= 0) {
          const colon = skipWs(text, end);
          if (text.charCodeAt(colon) !== 0x3a) throw new SyntaxError('expected ":" in JSON object');
          spans[2 * reading] = skipWs(text, colon + 1);
        }
      }
      j = end;
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth === 1) expectKey = true;
    } else if (c === 0x7d || c === 0x5d || (c === 0x2c && depth === 1)) {
      if (depth === 1 && reading >= 0) {
        let valueEnd = j;
        while (isJsonWhitespace(text.charCodeAt(valueEnd - 1))) valueEnd--;
        spans[2 * reading + 1] = valueEnd;
        reading = -1;
      }
      if (c === 0x2c) {
        expectKey = true;
        // Members of other keys, compact ones in one step: the rest of the object is read, for a repeated key.
        j = passMembers(otherMembers, text, j + 1);
        continue;
      } else if (--depth === 0) return j + 1;
    }
    j++;
  }
  throw new SyntaxError('unterminated JSON object');
}

/**
 * One pass over a JSON array of objects starting at `from` (after whitespace): `visit` gets each
 * element's bounds and the value bounds of `keys` among its top-level members, in a buffer reused
 * for the next element (spans[2k], spans[2k+1]; -1 when the key is absent; of a repeated key the
 * last, as JSON.parse). Returns the index just
 * past the array; the text after it is not read. For pages of entities: bounds and ids without
 * scanning an element twice.
 */
export function scanObjectArray(text: string, from: number, keys: readonly string[], visit: (start: number, end: number, spans: Int32Array) => void): number {
  const spans = new Int32Array(keys.length * 2);
  const otherMembers = membersSkipper(keys, []);
  let i = skipWs(text, from);
  if (text.charCodeAt(i) !== 0x5b) throw new SyntaxError('not a JSON array');
  i = skipWs(text, i + 1);
  if (text.charCodeAt(i) === 0x5d) return i + 1;
  for (;;) {
    if (text.charCodeAt(i) !== 0x7b) throw new SyntaxError('expected a JSON object in the array');
    const end = scanObject(text, i, keys, otherMembers, spans);
    visit(i, end, spans);
    i = skipWs(text, end);
    const sep = text.charCodeAt(i);
    if (sep === 0x5d) return i + 1;
    if (sep !== 0x2c) throw new SyntaxError('expected "," or "]" in JSON array');
    i = skipWs(text, i + 1);
  }
}

/**
 * The UTF-8 bytes of `text` as a string of one char per byte (what latin1 decoding of the bytes
 * gives). Text cut from a latin1-decoded response is in this form already; writing such strings
 * with the latin1 encoding puts the original bytes out unchanged, without a decode and encode.
 */
export function utf8ByteString(text: string): string {
  return /[^\x00-\x7f]/.test(text) ? Buffer.from(text, 'utf8').toString('latin1') : text;
}
