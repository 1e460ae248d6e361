/**
 * The `start_date` (and `end_date`) that make the printed settings work as they are for
 * `tap-quickbooks --config`: from the UTC midnight before the oldest record to the company's
 * "now" when one was given (records lie in [now − days, now)); without `--now` the tap's own
 * default end, the run's start, already covers them.
 */
export function settingsRange(
  options: { readonly now?: Date | undefined; readonly days: number },
  realNow: Date,
): { readonly start_date: string; readonly end_date?: string } {
  const now = options.now ?? realNow;
  const oldest = new Date(now.getTime() - options.days * 86_400_000);
  const start = new Date(Date.UTC(oldest.getUTCFullYear(), oldest.getUTCMonth(), oldest.getUTCDate()));
  const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { start_date: iso(start), ...(options.now !== undefined ? { end_date: iso(new Date(Math.ceil(options.now.getTime() / 1000) * 1000)) } : {}) };
}
