/** The reason `endedEmpty` is aborted with, for the error of whatever it stops. */
export const EMPTY_INPUT_REASON = 'the input ended with no message (nothing to load)';

export interface WatchedInput<T> {
  /** The same items, in order, each read once (the first read is handed on, not repeated). */
  readonly lines: AsyncIterator<T>;
  /** Aborted (reason EMPTY_INPUT_REASON) when the first read finds the input ended; never when it fails. */
  readonly endedEmpty: AbortSignal;
}

/**
 * Starts reading `lines` at once, so the caller learns while it is still connecting that there
 * is nothing to load (a tap that failed before its first message): retrying then only hides the
 * tap's error. A failed read is left to the consumer to report.
 */
export function watchForEmptyInput<T>(lines: AsyncIterator<T>): WatchedInput<T> {
  const ended = new AbortController();
  let first: Promise<IteratorResult<T>> | undefined = lines.next();
  first.then(
    (read) => {
      if (read.done === true) ended.abort(EMPTY_INPUT_REASON);
    },
    () => undefined,
  );
  return {
    lines: {
      next: () => {
        const read = first ?? lines.next();
        first = undefined;
        return read;
      },
    },
    endedEmpty: ended.signal,
  };
}
