import { afterAll, beforeAll } from 'vitest';

/**
 * What `start` gives (a harness, a firm), started in the suite's beforeAll and closed in its
 * afterAll, as scratchSchema drops its schema: one line in place of a `let` and two hooks. Its
 * members are the started one's; read before the suite has started it, they throw saying so.
 */
export function forSuite<T extends { close(): Promise<void> }>(what: string, start: () => Promise<T>): T {
  let started: T | undefined;
  beforeAll(async () => {
    started = await start();
  });
  afterAll(() => started?.close());
  return new Proxy({} as T, {
    get(_, key) {
      if (started === undefined) throw new Error(`the ${what} is started in the suite's beforeAll: read ${String(key)} in a test or hook`);
      const value: unknown = Reflect.get(started, key);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(started) : value;
    },
  });
}
