import { request as httpRequest } from 'node:http';

/** One HTTP exchange with the console over a real socket (node:http, so the Host header can be anything). */
export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** Cookies a browser would keep: name → value, from Set-Cookie headers. */
export class CookieJar {
  readonly values = new Map<string, string>();

  take(answer: Answer): void {
    const set = answer.headers['set-cookie'];
    for (const line of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.values.delete(name);
      else this.values.set(name, value);
    }
  }

  header(): string {
    return [...this.values].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export function send(
  base: string,
  path: string,
  options: {
    readonly method?: string;
    readonly form?: Record<string, string | readonly string[]>;
    readonly jar?: CookieJar;
    readonly headers?: Record<string, string>;
  } = {},
): Promise<Answer> {
  const url = new URL(path, base);
  const body = options.form
    ? new URLSearchParams(
        Object.entries(options.form).flatMap(([k, v]): Array<[string, string]> => (typeof v === 'string' ? [[k, v]] : v.map((x) => [k, x]))),
      ).toString()
    : undefined;
  const headers: Record<string, string> = {
    ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) } : {}),
    ...(options.jar && options.jar.values.size > 0 ? { cookie: options.jar.header() } : {}),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? (body !== undefined ? 'POST' : 'GET'), headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const answer = { status: res.statusCode ?? 0, headers: res.headers, text };
        options.jar?.take(answer);
        resolve(answer);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The CSRF token of the first form on a page. */
export function csrfTokenIn(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error('no CSRF token on the page');
  return token;
}
