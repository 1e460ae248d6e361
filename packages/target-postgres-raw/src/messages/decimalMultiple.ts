/** A finite number as exact decimal digits × 10^exponent, from its shortest round-trip text (`0.07` → 7 × 10^-2). */
function decimalOf(n: number): { readonly digits: bigint; readonly exponent: number } {
  const [, sign, whole, fraction = '', exponent = '0'] = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/.exec(String(n)) as RegExpExecArray;
  return { digits: BigInt(`${sign}${whole}${fraction}`), exponent: Number(exponent) - fraction.length };
}

/**
 * JSON Schema's `multipleOf`, decided on the decimal values the JSON text wrote, not on binary
 * floating point: 0.07 is a multiple of 0.01 and 1234567.1 of 1e-38, where `value / divisor`
 * in doubles (ajv's check) gives 7.000000000000001 and refuses a valid record. Taps declare
 * `multipleOf` for decimal columns (a `numeric(10,2)` as `0.01`). A value beyond a double's
 * range (read as ±Infinity) has lost its digits and is not refused on a guess.
 */
export function isDecimalMultiple(value: number, divisor: number): boolean {
  if (!Number.isFinite(value)) return true;
  const v = decimalOf(value);
  const d = decimalOf(divisor);
  const common = Math.min(v.exponent, d.exponent);
  const scaled = (x: { readonly digits: bigint; readonly exponent: number }) => x.digits * 10n ** BigInt(x.exponent - common);
  return scaled(v) % scaled(d) === 0n;
}
