import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import type { AxiosInstance, AxiosStatic } from 'axios';
import type { AttemptOutcome } from './retryPolicy.js';

export interface RawRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly params?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface RawResponse {
  readonly status: number;
  /** The body as received (after content decoding): entities are cut out of these bytes. */
  readonly bytes: Buffer;
  /** The body decoded as UTF-8, for small answers and error messages. */
  readonly body: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly tid: string | undefined;
}

/** A failed attempt that never got an HTTP response. */
export class TransportError extends Error {
  readonly outcome: AttemptOutcome;
  constructor(outcome: AttemptOutcome, message: string) {
    super(message);
    this.outcome = outcome;
  }
}

/** What the clients need of HTTP: one attempt per call (Transport; a fake in unit tests). */
export interface RequestSender {
  send(request: RawRequest): Promise<RawResponse>;
}

export interface TransportOptions {
  readonly timeoutMs: number;
  readonly userAgent: string;
  readonly maxSockets: number;
}

/**
 * The one place that talks HTTP (axios over keep-alive agents), for the token endpoint and the
 * data API alike. Bodies stay exact bytes: entities are cut out of them so numbers keep their digits.
 */
export class Transport implements RequestSender {
  readonly #options: TransportOptions;
  readonly #agents: readonly [http.Agent, https.Agent];
  #axios: AxiosInstance | undefined;

  constructor(options: TransportOptions) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
    this.#options = options;
    this.#agents = [new http.Agent(agentOptions), new https.Agent(agentOptions)];
  }

  /**
   * axios, loaded at the first request: the programs that only read the tap's settings and
   * constants (the runner's commands, each a process of its own) never load it. Required, not
   * imported: `import` loads axios's ES-module source, some 60 files, `require` its one-file Node
   * build of the same version, which costs each tap run 0.09 CPU-seconds less to load.
   */
  #client(): AxiosInstance {
    if (this.#axios) return this.#axios;
    const axios = createRequire(import.meta.url)('axios') as AxiosStatic;
    const [httpAgent, httpsAgent] = this.#agents;
    const options = this.#options;
    this.#axios = axios.create({
      timeout: options.timeoutMs,
      // Bytes, not text: a page is passed on byte for byte, never decoded and encoded again.
      responseType: 'arraybuffer',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      maxRedirects: 0,
      httpAgent,
      httpsAgent,
      headers: { 'User-Agent': options.userAgent },
    });
    return this.#axios;
  }

  /** Ends kept-alive sockets (and requests still running), so the process can exit. */
  close(): void {
    for (const agent of this.#agents) agent.destroy();
  }

  /** One attempt: the HTTP answer whatever its status, or a TransportError when none came. */
  async send(request: RawRequest): Promise<RawResponse> {
    try {
      const response = await this.#client().request<Buffer>({
        method: request.method,
        url: request.url,
        params: request.params,
        headers: request.headers,
        data: request.body,
      });
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(response.headers)) headers[k.toLowerCase()] = v === undefined || v === null ? undefined : String(v);
      const bytes = Buffer.isBuffer(response.data) ? response.data : Buffer.alloc(0);
      return {
        status: response.status,
        bytes,
        get body() {
          return bytes.toString('utf8');
        },
        headers,
        tid: headers['intuit_tid'],
      };
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'ERR_NETWORK';
      if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') throw new TransportError({ kind: 'timeout' }, `timed out`);
      throw new TransportError({ kind: 'network', code }, `network error ${code}`);
    }
  }
}
