import { setTimeout as sleep } from 'node:timers/promises';
import axios from 'axios';
import type { Secret } from 'singer-kit';
import type { NotifyEvent } from './decideNotifications.js';

/** A webhook that has not answered by then is not waited for (the next pass tries again). */
const TIMEOUT_MS = 5_000;
/** Tries per delivery, with these waits between them. */
const WAITS_MS = [500, 1_500] as const;

/**
 * What the webhook receives: Slack's and Teams' `text` (one line, with the command to paste if
 * the item has one, then the console link), and the same facts as fields for any other receiver.
 */
export function webhookBody(event: NotifyEvent, consoleUrl: string | undefined): Record<string, string> {
  const link = consoleUrl !== undefined && event.href !== undefined ? new URL(event.href, consoleUrl).toString() : undefined;
  return {
    text: `qbo-pipeline: company ${event.company}: ${event.reason}${event.command !== undefined ? `: ${event.command}` : ''}${link ? `\n${link}` : ''}`,
    kind: event.kind,
    level: event.level,
    company: event.company,
    ...(event.job !== undefined ? { job: event.job } : {}),
    ...(event.runId !== undefined ? { run_id: event.runId } : {}),
    reason: event.reason,
    ...(event.command !== undefined ? { command: event.command } : {}),
    ...(link ? { console_url: link } : {}),
    at: event.at,
  };
}

/**
 * POSTs JSON to the webhook, through the product's HTTP client (axios): a 2xx is delivered; a
 * timeout, a connection error or another status is tried again, then the last problem is
 * returned: `HTTP 500`, `no answer within 5 s`. Never the URL, which is a credential.
 */
export async function postWebhook(webhook: Secret, body: Readonly<Record<string, string>>): Promise<string | undefined> {
  let problem = '';
  for (let attempt = 0; attempt <= WAITS_MS.length; attempt++) {
    if (attempt > 0) await sleep(WAITS_MS[attempt - 1]);
    try {
      await axios.post(webhook.reveal(), body, {
        timeout: TIMEOUT_MS,
        maxRedirects: 0,
        headers: { 'content-type': 'application/json', 'user-agent': 'qbo-pipeline' },
        validateStatus: (status) => status >= 200 && status < 300,
      });
      return undefined;
    } catch (error) {
      problem = axios.isAxiosError(error)
        ? error.response
          ? `HTTP ${error.response.status}`
          : error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT'
            ? `no answer within ${TIMEOUT_MS / 1000} s`
            : `no connection (${error.code ?? 'network error'})`
        : 'could not post';
    }
  }
  return problem;
}
