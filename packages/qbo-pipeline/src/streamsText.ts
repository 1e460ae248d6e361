import { KNOWN_STREAMS } from './companies/companiesSchema.js';

/** Every stream of the catalog (a company's `streams: all`, `--streams all`), in any order. */
export function isEveryStream(streams: readonly string[]): boolean {
  const names = new Set(streams);
  return names.size === KNOWN_STREAMS.length && KNOWN_STREAMS.every((s) => names.has(s));
}

/**
 * Streams as a list or a page shows them: `all 28` when they are every stream of the catalog (28
 * names say less than that), else the names, joined by `separator` (`schedule list` keeps `,`, as
 * `--streams` takes them).
 */
export function streamsText(streams: readonly string[], separator = ', '): string {
  return isEveryStream(streams) ? `all ${streams.length}` : streams.join(separator);
}
