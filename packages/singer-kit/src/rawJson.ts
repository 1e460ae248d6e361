/**
 * Exact JSON by text: find and splice values inside JSON text without parsing numbers, so
 * money such as `1234567.10` or `275.0` keeps its digits byte for byte. The input is assumed
 * to be valid JSON (callers JSON.parse it too, which also validates it); the scanner only
 * tracks strings and nesting.
 */

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

function skipWs(text: string, i: number): number {
  while (i < text.length && WS.has(text.charCodeAt(i))) i++;
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

/** Index just past the JSON value that starts at `i` (after whitespace). */
export function endOfValue(text: string, i: number): number {
  i = skipWs(text, i);
  const c = text.charCodeAt(i);
  if (c === 0x22) return endOfString(text, i);
  if (c === 0x7b || c === 0x5b) {
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
    if (d === 0x2c || d === 0x7d || d === 0x5d || WS.has(d)) break;
    j++;
  }
  if (j === i) throw new SyntaxError(`unexpected character at ${i}`);
  return j;
}

/**
 * Walks an object's members in order; `visit` gets each key and its value's bounds and returns
 * true to stop early (a member found needs no scan of the members after it).
 */
function walkMembers(objectText: string, visit: (key: string, valueStart: number, valueEnd: number) => boolean): void {
  let i = skipWs(objectText, 0);
  if (objectText.charCodeAt(i) !== 0x7b) throw new SyntaxError('not a JSON object');
  i = skipWs(objectText, i + 1);
  if (objectText.charCodeAt(i) === 0x7d) return;
  for (;;) {
    const keyEnd = endOfString(objectText, i);
    // Most keys have no escapes: slicing is much cheaper than JSON.parse, and gives the same key.
    const rawKey = objectText.slice(i + 1, keyEnd - 1);
    const key = rawKey.includes('\\') ? (JSON.parse(objectText.slice(i, keyEnd)) as string) : rawKey;
    i = skipWs(objectText, keyEnd);
    if (objectText.charCodeAt(i) !== 0x3a) throw new SyntaxError('expected ":" in JSON object');
    const valueStart = skipWs(objectText, i + 1);
    const valueEnd = endOfValue(objectText, valueStart);
    if (visit(key, valueStart, valueEnd)) return;
    i = skipWs(objectText, valueEnd);
    const sep = objectText.charCodeAt(i);
    if (sep === 0x7d) return;
    if (sep !== 0x2c) throw new SyntaxError('expected "," or "}" in JSON object');
    i = skipWs(objectText, i + 1);
  }
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

/** The raw text of one member's value, or undefined; stops scanning at the member. */
export function memberText(objectText: string, key: string): string | undefined {
  let found: string | undefined;
  walkMembers(objectText, (k, start, end) => {
    if (k !== key) return false;
    found = objectText.slice(start, end);
    return true;
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

/** Removes whitespace outside strings so a value fits on one line; cheap when already compact. */
export function compactJson(text: string): string {
  // includes() is much faster than a regex test on long texts, and this is on every record.
  if (!text.includes('\n') && !text.includes('\r')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = endOfString(text, i);
      out += text.slice(i, end);
      i = end - 1;
    } else if (!WS.has(c)) out += text[i];
  }
  return out;
}

/** Object text with members appended (keys JSON-encoded here, values given as raw JSON text). */
export function appendMembers(objectText: string, members: ReadonlyArray<readonly [string, string]>): string {
  if (members.length === 0) return objectText;
  const close = objectText.lastIndexOf('}');
  if (close < 0) throw new SyntaxError('not a JSON object');
  const head = objectText.slice(0, close).trimEnd();
  const empty = head.endsWith('{');
  const added = members.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',');
  return `${head}${empty ? '' : ','}${added}}`;
}

/** Object text keeping only the members whose key passes `keep`, in their original order and bytes. */
export function pickMembers(objectText: string, keep: (key: string) => boolean): string {
  const members = objectMembers(objectText).filter(([k]) => keep(k));
  return `{${members.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
}
