import { clientConfig, type TargetSettings } from 'target-postgres-raw';
import { refusal, Warehouse } from './Warehouse.js';

/** A warehouse that does not answer within this long fails the visit (a console page, a scheduler's sweep) instead of holding it. */
const CONNECT_TIMEOUT_MS = 5_000;
const QUERY_TIMEOUT_MS = 20_000;

/**
 * A short visit to the warehouse from a long-lived process (the console for a page, the scheduler
 * to close runs whose runner is gone): connect with timeouts, read or write, close.
 */
export async function visitWarehouse<T>(
  settings: TargetSettings,
  application: string,
  visit: (warehouse: Warehouse, schema: string) => Promise<T>,
): Promise<T> {
  const config = { ...clientConfig(settings.connection, application), connectionTimeoutMillis: CONNECT_TIMEOUT_MS, query_timeout: QUERY_TIMEOUT_MS };
  const warehouse = await Warehouse.open(config, settings.schema).catch((error: unknown) => {
    throw refusal(error, settings.connection);
  });
  try {
    return await visit(warehouse, settings.schema);
  } finally {
    await warehouse.close().catch(() => undefined);
  }
}
