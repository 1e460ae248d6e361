import { plural, type Secret } from 'singer-kit';

/** What the data API's answer to a request made with a token said. */
interface Answer {
  readonly status: number | undefined;
  readonly tid: string | undefined;
}

/**
 * One access token and what this process saw of it: when it was issued, how many requests used
 * it, and how its very first request was answered. A 401 is judged from these facts, and the
 * messages name them.
 */
export class AccessToken {
  readonly secret: Secret;
  /** Epoch ms it was issued (adopted tokens: when the token store received it). */
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** The token endpoint gave it to this process (not adopted from another process's refresh). */
  readonly issuedHere: boolean;
  #uses = 0;
  #first: Answer | undefined;
  readonly #firstAnswer: Promise<Answer>;
  #settleFirst: (answer: Answer) => void = () => undefined;

  constructor(init: { secret: Secret; issuedAt: number; expiresAt: number; issuedHere: boolean }) {
    this.secret = init.secret;
    this.issuedAt = init.issuedAt;
    this.expiresAt = init.expiresAt;
    this.issuedHere = init.issuedHere;
    this.#firstAnswer = new Promise((resolve) => (this.#settleFirst = resolve));
  }

  /** Requests sent with it so far. */
  get uses(): number {
    return this.#uses;
  }

  /** Call before each request made with the token; returns the request's use number (1 = its very first). */
  use(): number {
    this.#uses += 1;
    return this.#uses;
  }

  /** The answer to use number `use`: its HTTP status (undefined when none came) and intuit_tid. */
  answered(use: number, status: number | undefined, tid: string | undefined): void {
    if (use !== 1 || this.#first) return;
    this.#first = { status, tid };
    this.#settleFirst(this.#first);
  }

  /** How its very first request was answered (waits for it; only asked after some request was answered). */
  firstAnswer(): Promise<Answer> {
    return this.#firstAnswer;
  }

  /** The evidence for a message: `intuit_tid …, token 0.4 s old, 3 requests`. */
  describe(now: number, tid: string | undefined): string {
    return `intuit_tid ${tid ?? 'none'}, token ${((now - this.issuedAt) / 1000).toFixed(1)} s old, ${plural(this.#uses, 'request')} made with it`;
  }
}

/** Where the data client gets bearer tokens (OAuthClient). */
export interface AccessTokenSource {
  /** A token to use now (waits for a refresh in progress). */
  accessToken(): Promise<AccessToken>;
  /**
   * `token` got a 401: a newer token. Every request that saw the same token die shares one
   * replacement (at most one refresh); throws a UsageError when tokens keep dying on their very first use.
   */
  replaceRejected(token: AccessToken, tid: string | undefined): Promise<AccessToken>;
}
