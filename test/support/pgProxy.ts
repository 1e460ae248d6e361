import net from 'node:net';

/** A TCP proxy in front of a real PostgreSQL, able to cut a connection at an exact protocol moment. */
export interface PgProxy {
  /** postgres:// URL through the proxy (same user, password and database as `targetUrl`). */
  readonly url: string;
  /**
   * Arms a cut: the next COMMIT a client sends is passed to the server, and once the server
   * answers (the transaction is committed) the connection is closed without passing the answer
   * on. The client cannot know whether its COMMIT happened. Resolves when the cut happened.
   */
  cutAfterNextCommit(): Promise<void>;
  /**
   * The server stops answering without closing anything (a hung host, a network that stopped
   * passing bytes): from now on, until `thaw`, every byte either way is dropped, on open
   * connections and on new ones, which are accepted.
   */
  freeze(): void;
  /** New connections pass again (those opened or used while frozen stay broken). */
  thaw(): void;
  /**
   * The server shuts down as the next new session starts: its ReadyForQuery reaches the client in
   * one packet with a FATAL 57P01 (terminating connection due to administrator command), then the
   * connection closes. Resolves when that happened; later connections pass as usual.
   */
  shutdownAtNextStartup(): Promise<void>;
  /** The database goes away: open connections are cut and new ones refused (ECONNREFUSED). */
  close(): Promise<void>;
}

/** A simple-protocol Query message whose text is COMMIT (pg sends `client.query('COMMIT')` so). */
const COMMIT_QUERY = Buffer.concat([Buffer.from('Q'), Buffer.from([0, 0, 0, 11]), Buffer.from('COMMIT\0')]);
/** ReadyForQuery, idle: how the server ends a session's startup. */
const READY_IDLE = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);

/** An ErrorResponse message with these fields (S severity, C SQLSTATE, M message, …). */
function errorResponse(fields: Record<string, string>): Buffer {
  const body = Buffer.concat([...Object.entries(fields).map(([k, v]) => Buffer.from(`${k}${v}\0`)), Buffer.from([0])]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length + 4);
  return Buffer.concat([Buffer.from('E'), length, body]);
}
const ADMIN_SHUTDOWN = errorResponse({ S: 'FATAL', V: 'FATAL', C: '57P01', M: 'terminating connection due to administrator command' });

/** `port`: where it listens (default: a free port the OS picks), e.g. a closed proxy's again, as a restarted server comes back where it was. */
export async function startPgProxy(targetUrl: string, port = 0): Promise<PgProxy> {
  const target = new URL(targetUrl);
  let armed: (() => void) | undefined;
  let shutdownArmed: (() => void) | undefined;
  let frozen = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    let cutting: (() => void) | undefined;
    let shuttingDown = shutdownArmed;
    shutdownArmed = undefined;
    let broken = frozen;
    client.on('data', (chunk: Buffer) => {
      broken ||= frozen;
      if (broken) return;
      if (armed && chunk.includes(COMMIT_QUERY)) {
        cutting = armed;
        armed = undefined;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      broken ||= frozen;
      if (broken) return;
      if (cutting) {
        client.destroy();
        upstream.destroy();
        cutting();
        return;
      }
      if (shuttingDown && chunk.includes(READY_IDLE)) {
        const done = shuttingDown;
        shuttingDown = undefined;
        broken = true;
        client.end(Buffer.concat([chunk, ADMIN_SHUTDOWN]), done);
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = new URL(targetUrl);
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    cutAfterNextCommit: () => new Promise<void>((resolve) => (armed = resolve)),
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
    },
    shutdownAtNextStartup: () => new Promise<void>((resolve) => (shutdownArmed = resolve)),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
