const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;

/**
 * How long to wait before retry `attempt` (0 for the first retry): 0.5 s doubling up to 10 s,
 * with ±20% jitter so several targets do not knock on a restarting server in step, and never
 * past the time left (`remainingMs`), so the last try happens at the bound.
 */
export function reconnectDelayMs(attempt: number, remainingMs: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(attempt, 20));
  const jittered = base * (0.8 + 0.4 * random());
  return Math.max(0, Math.min(Math.round(jittered), remainingMs));
}
