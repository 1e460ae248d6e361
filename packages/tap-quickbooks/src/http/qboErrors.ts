import { RunError, UsageError, type CliError } from 'singer-kit';

/** The first error of a QBO fault body, JSON (`Fault`/`fault`, any key case) or XML (429s). */
export interface QboFault {
  readonly code: string | undefined;
  readonly message: string | undefined;
  readonly detail: string | undefined;
  readonly type: string | undefined;
}

function pick(obj: unknown, key: string): unknown {
  if (typeof obj !== 'object' || obj === null) return undefined;
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

const asText = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : typeof v === 'string' ? v : JSON.stringify(v));

function xmlText(body: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}[^>]*>([\\s\\S]*?)</${tag}>`, 'i').exec(body);
  return match?.[1]?.trim();
}

export function parseFault(body: string): QboFault | undefined {
  const text = body.trim();
  if (text.startsWith('<')) {
    if (!/<Fault\b/i.test(text)) return undefined;
    return {
      code: /<Error[^>]*\bcode="([^"]*)"/i.exec(text)?.[1],
      message: xmlText(text, 'Message'),
      detail: xmlText(text, 'Detail'),
      type: /<Fault[^>]*\btype="([^"]*)"/i.exec(text)?.[1],
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const fault = pick(json, 'Fault');
  if (fault === undefined || fault === null) {
    // The token endpoint answers {"error":"invalid_grant","error_description":…}.
    const error = pick(json, 'error');
    return typeof error === 'string' ? { code: error, message: asText(pick(json, 'error_description')), detail: undefined, type: 'oauth' } : undefined;
  }
  const errors = pick(fault, 'Error');
  const first: unknown = Array.isArray(errors) ? errors[0] : errors;
  return {
    code: asText(pick(first, 'code')),
    message: asText(pick(first, 'Message')),
    detail: asText(pick(first, 'Detail')),
    type: asText(pick(fault, 'type')),
  };
}

export interface FailedRequest {
  readonly what: string;
  readonly status: number | undefined;
  readonly body: string;
  readonly tid: string | undefined;
  readonly realmId: string;
  readonly sandbox: boolean;
  /** Set when retries ran out. */
  readonly attempts?: number;
}

const SANDBOX_HINT = (sandbox: boolean) =>
  `check that the sandbox setting (now ${sandbox}) matches your credentials and realm: sandbox keys only work with sandbox companies, production keys with production companies`;

/** A hint for the failures users can fix themselves (auth mix-ups, unknown realm). */
function hintFor(status: number | undefined, fault: QboFault | undefined, realmId: string, sandbox: boolean): string | undefined {
  const code = fault?.code;
  if (code === '3100' || (status === 403 && code !== '3201')) return SANDBOX_HINT(sandbox);
  if (code === '3201') return `the app is not authorised for company ${realmId}; reconnect the app to this company`;
  if (status === 404) {
    return `QuickBooks does not recognise realm_id ${realmId}; ${SANDBOX_HINT(sandbox)}`;
  }
  if (code === '4000' || code === '4001') return 'the query was rejected; this is a bug in tap-quickbooks, please report it with the intuit_tid';
  return undefined;
}

function faultText(fault: QboFault | undefined, body: string): string {
  if (!fault) {
    const preview = body.replace(/\s+/g, ' ').trim().slice(0, 200);
    return preview === '' ? 'empty body' : preview;
  }
  return [fault.code ? `code ${fault.code}` : undefined, fault.message, fault.detail].filter(Boolean).join(': ');
}

/**
 * One line naming the request, the HTTP status, QBO's fault, the intuit_tid, and a hint.
 * Configuration problems (403, 404, auth codes) are UsageErrors (exit 2); the rest RunErrors.
 */
export function requestError(failed: FailedRequest, cause?: unknown): CliError {
  const fault = parseFault(failed.body);
  const hint = hintFor(failed.status, fault, failed.realmId, failed.sandbox);
  const status = failed.status === undefined ? '' : ` HTTP ${failed.status}`;
  const tries = failed.attempts ? ` after ${failed.attempts} attempts` : '';
  const message = `${failed.what} failed${tries}:${status} ${faultText(fault, failed.body)} (intuit_tid ${failed.tid ?? 'none'})${hint ? `; ${hint}` : ''}`;
  const config = failed.status === 403 || failed.status === 404 || fault?.code === '3100' || fault?.code === '3201';
  return config ? new UsageError(message, { cause }) : new RunError(message, { cause });
}
