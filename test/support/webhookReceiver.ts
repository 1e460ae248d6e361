import { forSuite } from './forSuite.js';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP server standing in for a Slack or Teams incoming webhook, over real HTTP: what it
 * was posted at `secretPath` (the path is the credential, as in Slack's URLs; any other path is a
 * 404), and how it answers: `ok` (200), `500`, or `hang` (never, until closed). `holdNext` catches a
 * sender mid-delivery: the next POST is answered (200), and received, only when the test says.
 */
export interface WebhookReceiver {
  readonly url: string;
  readonly received: Array<Record<string, string>>;
  answer: 'ok' | '500' | 'hang';
  /**
   * The next POST is held unanswered: `arrived` when it comes; `answer` receives it (200) if its
   * sender still waits for the answer.
   */
  holdNext(): { readonly arrived: Promise<void>; answer(): void };
  close(): void;
}

export async function startWebhookReceiver(secretPath: string): Promise<WebhookReceiver> {
  const hung: ServerResponse[] = [];
  let holdingNext: ((response: ServerResponse, body: string) => void) | undefined;
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (request.url !== secretPath) return void response.writeHead(404).end();
      if (receiver.answer === 'hang') return void hung.push(response);
      if (receiver.answer === '500') return void response.writeHead(500).end('oops');
      if (holdingNext) {
        holdingNext(response, body);
        holdingNext = undefined;
        return;
      }
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
      let held: { response: ServerResponse; body: string } | undefined;
      let answered = false;
      let arrived!: () => void;
      const answer = () => {
        // A sender that gave up waiting (its timeout) did not deliver this one: it tries again.
        if (!held || held.response.headersSent || held.response.destroyed) return;
        receiver.received.push(JSON.parse(held.body) as Record<string, string>);
        held.response.writeHead(200).end('ok');
      };
      holdingNext = (response, body) => {
        held = { response, body };
        hung.push(response);
        arrived();
        if (answered) answer();
      };
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
