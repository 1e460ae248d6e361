/**
 * A count and its noun for a log line or page: `1 record`, `0 records`, `3 days`, `2 companies`
 * (a consonant and y take -ies). `shown` writes the number (e.g. with thousands separators); the
 * noun follows the count itself.
 */
export function plural(n: number, one: string, shown: (n: number) => string = String): string {
  return `${shown(n)} ${n === 1 ? one : /[^aeiou]y$/.test(one) ? `${one.slice(0, -1)}ies` : `${one}s`}`;
}
