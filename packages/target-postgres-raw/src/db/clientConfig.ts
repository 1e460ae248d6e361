import type pg from 'pg';
import type { ConnectionSettings } from '../settings.js';

/** node-postgres settings for the target's connection settings (also the runner's, which reads the same settings). */
export function clientConfig(c: ConnectionSettings, applicationName = 'target-postgres-raw'): pg.ClientConfig {
  const ssl = c.sslmode === 'disable' ? false : c.sslmode === 'require' ? { rejectUnauthorized: false } : true;
  const common = { application_name: applicationName, keepAlive: true, ssl };
  if (c.connectionString) return { ...common, connectionString: c.connectionString.reveal() };
  return { ...common, host: c.host, port: c.port, user: c.user, database: c.database, ...(c.password ? { password: c.password.reveal() } : {}) };
}
