import { afterAll, beforeAll } from 'vitest';

/**
 * What `start` gives (a harness, a firm, a webhook receiver), started in the suite's beforeAll and
 * closed in its afterAll, as scratchSchema drops its schema: one line in place of a `let` and two
 * hooks. Its members are the started one's (read and set); used before the suite has started it,
 * they throw saying so.
 */
export function forSuite<T extends { close(): unknown }>(what: string, start: () => Promise<T>): T {
  let started: T | undefined;
  beforeAll(async () => {
    started = await start();
  });
  afterAll(() => started?.close());
  const current = (key: string | symbol): T => {
    if (started === undefined) throw new Error(`the ${what} is started in the suite's beforeAll: use ${String(key)} in a test or hook`);
    return started;
  };
  return new Proxy({} as T, {
    get(_, key) {
      const value: unknown = Reflect.get(current(key), key);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(started) : value;
    },
    set: (_, key, value) => Reflect.set(current(key), key, value),
  });
}
