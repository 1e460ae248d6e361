import { formatPacificMillis } from './pacificTime.js';

/** One entry of a fault's `Error` array. */
export interface FaultError {
  readonly message: string;
  readonly detail: string;
  readonly code: string;
}

const timeMember = (nowMs: number) => `"time":${JSON.stringify(formatPacificMillis(nowMs))}`;

/** QBO's `Fault` object (`code` a string); batch items carry it without a `time`. */
export function faultObject(type: string, errors: readonly FaultError[]): string {
  return JSON.stringify({ Error: errors.map((e) => ({ Message: e.message, Detail: e.detail, code: e.code })), type });
}

/** `{"Fault":{…},"time":"…"}`, QBO's JSON error envelope. */
export function faultBody(nowMs: number, type: string, errors: readonly FaultError[]): string {
  return `{"Fault":${faultObject(type, errors)},${timeMember(nowMs)}}`;
}

export const queryParseError = (detail: string): FaultError => ({ message: 'Error parsing query', detail, code: '4000' });
export const queryValidationError = (detail: string): FaultError => ({ message: 'Invalid query', detail, code: '4001' });
export const unsupportedOperation = (detail: string): FaultError => ({ message: 'Unsupported Operation', detail, code: '500' });

/** The 401 body of the data API: lower-case keys, epoch-millisecond `time`, as observed live. */
export function authenticationFault(nowMs: number, detail: string): string {
  return JSON.stringify({
    warnings: null,
    intuitObject: null,
    fault: {
      error: [{ message: 'message=AuthenticationFailed; errorCode=003200; statusCode=401', detail, code: '3200', element: null }],
      type: 'AUTHENTICATION',
    },
    report: null,
    queryResponse: null,
    batchItemResponse: [],
    attachableResponse: [],
    syncErrorResponse: null,
    requestId: null,
    time: nowMs,
    status: null,
    cdcresponse: [],
  });
}

export const WWW_AUTHENTICATE = 'Bearer realm="Intuit", error="invalid_token"';

/** 429 is answered in XML even when JSON was asked for. */
export function throttleBody(nowMs: number): string {
  return [
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
    `<IntuitResponse time="${formatPacificMillis(nowMs)}" xmlns="http://schema.intuit.com/finance/v3">`,
    '    <Fault type="SERVICE">',
    '        <Error code="3001">',
    '            <Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>',
    '            <Detail>The request limit was reached.  Try again later</Detail>',
    '        </Error>',
    '    </Fault>',
    '</IntuitResponse>',
    '',
  ].join('\n');
}

export const systemFault = (nowMs: number) =>
  faultBody(nowMs, 'SystemFault', [
    {
      message: 'An application error has occurred while processing your request',
      detail: 'System Failure Error: An unexpected error occurred while accessing or saving your data.',
      code: '10000',
    },
  ]);

/** What the gateway in front of QBO answers for 502/503/504: HTML, not JSON. */
export function gatewayBody(status: number): string {
  const text = { 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Time-out' }[status] ?? 'Error';
  return `<html><head><title>${status} ${text}</title></head><body><center><h1>${status} ${text}</h1></center></body></html>\n`;
}

/** A page a proxy in front of QBO answers with HTTP 200 (a login or maintenance page). */
export function proxyPage(): string {
  return '<!DOCTYPE html>\n<html><head><title>Maintenance</title></head><body><h1>We will be back shortly</h1></body></html>\n';
}

export const unknownRealmFault = (nowMs: number, realmId: string) =>
  faultBody(nowMs, 'ValidationFault', [
    { message: 'Object Not Found', detail: `Object Not Found : Company ${realmId} was not found or is not authorized for this app.`, code: '610' },
  ]);

/** A `QueryResponse` object: `{"Invoice":[…],"startPosition":1,"maxResults":<rows>}`, or `{}` when empty; record texts spliced in as they are. */
export function queryResponseObject(entity: string, texts: readonly string[], startPosition: number): string {
  if (texts.length === 0) return '{}';
  return `{${JSON.stringify(entity)}:[${texts.join(',')}],"startPosition":${startPosition},"maxResults":${texts.length}}`;
}

export const countResponseObject = (totalCount: number) => `{"totalCount":${totalCount}}`;

/** `{"QueryResponse":{…},"time":"…"}` */
export const queryBody = (nowMs: number, queryResponse: string) => `{"QueryResponse":${queryResponse},${timeMember(nowMs)}}`;

/** CDC envelope; entities without changes are left out, and no changes at all is `[{}]`. */
export function cdcBody(nowMs: number, results: ReadonlyArray<{ entity: string; texts: readonly string[]; total: number }>): string {
  const parts = results
    .filter((r) => r.texts.length > 0)
    .map((r) => {
      const inner = queryResponseObject(r.entity, r.texts, 1);
      return r.total > r.texts.length ? `${inner.slice(0, -1)},"totalCount":${r.total}}` : inner;
    });
  return `{"CDCResponse":[{"QueryResponse":[${parts.length ? parts.join(',') : '{}'}]}],${timeMember(nowMs)}}`;
}

/** `{"BatchItemResponse":[{…,"bId":"…"}],"time":"…"}`; each item is a `QueryResponse` or a `Fault`. */
export function batchBody(nowMs: number, items: ReadonlyArray<{ bId: string; member: 'QueryResponse' | 'Fault'; text: string }>): string {
  const parts = items.map((i) => `{${JSON.stringify(i.member)}:${i.text},"bId":${JSON.stringify(i.bId)}}`);
  return `{"BatchItemResponse":[${parts.join(',')}],${timeMember(nowMs)}}`;
}
