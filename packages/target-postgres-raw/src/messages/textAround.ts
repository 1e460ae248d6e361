/**
 * What was made of a line's text around its record (the message without it). The lines of a tap's
 * stream mostly differ only inside their records, so the last line's answer can be kept and reused.
 */
export interface TextAround<T> {
  readonly before: string;
  readonly after: string;
  readonly value: T;
}

/** `last`'s value when `text` has the same text around its record at [start, end) as `last` had. */
export function sameTextAround<T>(last: TextAround<T> | undefined, text: string, start: number, end: number): T | undefined {
  return last !== undefined &&
    last.before.length === start &&
    last.after.length === text.length - end &&
    text.startsWith(last.before) &&
    text.endsWith(last.after)
    ? last.value
    : undefined;
}
