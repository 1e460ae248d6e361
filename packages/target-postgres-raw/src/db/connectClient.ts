import net from 'node:net';
import pg from 'pg';
import type { ConnectionSettings } from '../settings.js';
import { clientConfig } from './clientConfig.js';

/** A server that stopped answering, coded as a socket timeout: the connection counts as lost (pgErrorKind). */
function noAnswer(what: string, setting: string, ms: number): Error {
  return Object.assign(new Error(`PostgreSQL gave no answer ${what} within ${setting} (${ms / 1000} s)`), { code: 'ETIMEDOUT' });
}

/**
 * A connected client whose waits for the server are bounded: a server that accepts TCP but never
 * answers (a hung host, a firewall or proxy that swallows bytes, a network that stopped passing
 * them) would otherwise hold a nightly run for ever, as neither node-postgres nor TCP keepalive
 * (the peer's kernel still acknowledges) ends it. The socket is destroyed when it stays silent for
 * `connectTimeoutMs` while connecting, or for `queryTimeoutMs` while a statement awaits its answer
 * (the client is not ready for the next query); an idle session waits as long as it likes.
 * The pending statement then fails with ETIMEDOUT. The caller listens for the client's 'error' events.
 */
export async function connectClient(c: ConnectionSettings, applicationName?: string): Promise<pg.Client> {
  const socket = new net.Socket();
  const client = new pg.Client({ ...clientConfig(c, applicationName), stream: () => socket });
  // node-postgres's own flag (not in its types): false from sending a query until its ReadyForQuery.
  const awaitingAnswer = () => !(client as unknown as { readyForQuery: boolean }).readyForQuery;
  let connecting = true;
  socket.setTimeout(c.connectTimeoutMs);
  socket.on('timeout', () => {
    if (connecting) socket.destroy(noAnswer('to the connection attempt', 'connect_timeout_seconds', c.connectTimeoutMs));
    else if (awaitingAnswer()) socket.destroy(noAnswer('to a statement', 'query_timeout_seconds', c.queryTimeoutMs));
  });
  // An error the server sends in the packet of its ReadyForQuery (one shutting down as the session
  // starts: 57P01) is emitted before connect() resolves, so before a caller can listen: kept here,
  // it fails this connection attempt, which callers retry, instead of crashing the process as an
  // unhandled 'error' event. Later errors are the caller's, who listens from the moment it has the client.
  let early: Error | undefined;
  const keep = (error: Error) => (early ??= error);
  client.on('error', keep);
  try {
    await client.connect();
    if (early) throw early;
  } catch (error) {
    socket.destroy(); // the listener stays: the closing of a client given up may still emit
    throw error;
  }
  client.off('error', keep);
  connecting = false;
  socket.setTimeout(c.queryTimeoutMs);
  return client;
}
