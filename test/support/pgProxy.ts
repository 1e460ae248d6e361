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
  /** The database goes away: open connections are cut and new ones refused (ECONNREFUSED). */
  close(): Promise<void>;
}

/** A simple-protocol Query message whose text is COMMIT (pg sends `client.query('COMMIT')` so). */
const COMMIT_QUERY = Buffer.concat([Buffer.from('Q'), Buffer.from([0, 0, 0, 11]), Buffer.from('COMMIT\0')]);

export async function startPgProxy(targetUrl: string): Promise<PgProxy> {
  const target = new URL(targetUrl);
  let armed: (() => void) | undefined;
  let frozen = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    let cutting: (() => void) | undefined;
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
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
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
