import { forSuite } from './forSuite.js';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP server standing in for a Slack or Teams incoming webhook, over real HTTP: what it
 * was posted at `secretPath` (the path is the credential, as in Slack's URLs; any other path is a
 * 404), and how it answers: `ok` (200), `500`, or `hang` (never, until closed). `holdNext` catches a
 * sender mid-delivery: the next POST, and its sender's tries again of it, are answered (200), and
 * received, only when the test says.
 */
export interface WebhookReceiver {
  readonly url: string;
  readonly received: Array<Record<string, string>>;
  answer: 'ok' | '500' | 'hang';
  /**
   * The next POST is held unanswered, and so is each try again of it (the same body: its sender gave
   * up waiting, 5 s, and posts it anew), so that the sender holds its notifications lock through
   * all its tries, not only the first 5 s: `arrived` when it first comes; `answer` receives it (200)
   * on the try its sender still waits for, if any. Other POSTs meanwhile are answered as usual.
   */
  holdNext(): { readonly arrived: Promise<void>; answer(): void };
  close(): void;
}

export async function startWebhookReceiver(secretPath: string): Promise<WebhookReceiver> {
  const hung: ServerResponse[] = [];
  /** While a `holdNext` holds: takes a POST it holds (false: not one of them). */
  let holding: ((response: ServerResponse, body: string) => boolean) | undefined;
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (request.url !== secretPath) return void response.writeHead(404).end();
      if (receiver.answer === 'hang') return void hung.push(response);
      if (receiver.answer === '500') return void response.writeHead(500).end('oops');
      if (holding?.(response, body)) return;
      receiver.received.push(JSON.parse(body) as Record<string, string>);
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${secretPath}`,
    received: [],
    answer: 'ok',
    holdNext() {
      let first: string | undefined;
      /** The tries of the held POST, oldest first; `closed`, those whose sender gave up waiting (closed the connection). */
      const tries: ServerResponse[] = [];
      const closed = new WeakSet<ServerResponse>();
      let answered = false;
      let arrived!: () => void;
      const answer = () => {
        if (first === undefined) return;
        if (holding === take) holding = undefined;
        // A try whose sender gave up waiting delivered nothing: only the one it still waits for is received.
        const waiting = tries.filter((r) => !closed.has(r) && !r.headersSent).at(-1);
        if (!waiting) return;
        receiver.received.push(JSON.parse(first) as Record<string, string>);
        waiting.writeHead(200).end('ok');
      };
      const take = (response: ServerResponse, body: string) => {
        if (first !== undefined && body !== first) return false;
        first = body;
        tries.push(response);
        hung.push(response);
        response.once('close', () => closed.add(response));
        arrived();
        if (answered) answer();
        return true;
      };
      holding = take;
      return {
        arrived: new Promise<void>((resolve) => (arrived = resolve)),
        answer() {
          answered = true;
          answer();
        },
      };
    },
    close() {
      for (const response of hung) response.destroy();
      server.closeAllConnections();
      server.close();
    },
  };
  return receiver;
}

/** A receiver for the suite (the file, or the describe it is called in): see forSuite. */
export const suiteWebhookReceiver = (secretPath: string): WebhookReceiver => forSuite('webhook receiver', () => startWebhookReceiver(secretPath));
