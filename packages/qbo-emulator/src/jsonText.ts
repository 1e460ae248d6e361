/**
 * Builds JSON text directly, so amounts keep the exact digits chosen for them (`275`,
 * `275.0`, `1234567.10`): numbers never pass through JSON.stringify. Members whose value is
 * undefined are left out, as QBO omits properties without a value rather than sending null.
 */
export type Member = readonly [key: string, raw: string | undefined];

/** Keys are our own property names (plain ASCII, nothing to escape), so they are quoted as they are. */
export function obj(members: readonly Member[]): string {
  let out = '{';
  for (const [key, raw] of members) {
    if (raw === undefined) continue;
    if (out.length > 1) out += ',';
    out += `"${key}":${raw}`;
  }
  return `${out}}`;
}

export function arr(items: readonly string[]): string {
  return `[${items.join(',')}]`;
}

export const str = (value: string): string => JSON.stringify(value);
export const bool = (value: boolean): string => (value ? 'true' : 'false');
export const int = (value: number): string => String(Math.trunc(value));

export function ref(value: string | number, name?: string): string {
  return obj([
    ['value', str(String(value))],
    ['name', name === undefined ? undefined : str(name)],
  ]);
}

/** How an amount is written; QBO writes both `275` and `275.0`, and we also serve `1234567.10`. */
export const MONEY_STYLES = ['plain', 'pointZero'] as const;
export type MoneyStyle = (typeof MONEY_STYLES)[number];

/** Exact decimal text of `cents / 100`; `pointZero` keeps a trailing zero (`275.0`, `12.50`). */
export function money(cents: number, style: MoneyStyle): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(cents));
  const whole = Math.floor(abs / 100);
  const frac = abs % 100;
  if (frac === 0) return `${sign}${whole}${style === 'pointZero' ? '.0' : ''}`;
  const two = frac < 10 ? `0${frac}` : String(frac);
  if (frac % 10 === 0 && style === 'plain') return `${sign}${whole}.${two[0]}`;
  return `${sign}${whole}.${two}`;
}

/** Exact text of a quantity given in hundredths (`350` → `3.5`). */
export function quantity(hundredths: number): string {
  return money(hundredths, 'plain');
}
