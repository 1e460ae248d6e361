import { redact } from 'singer-kit';

/** Markup that is already safe to send: made only by `html` (or `trustedHtml` for fixed text). */
export class SafeHtml {
  readonly #text: string;
  constructor(text: string) {
    this.#text = text;
  }
  toString(): string {
    return this.#text;
  }
}

/** Anything a template may interpolate: text is escaped, SafeHtml kept, arrays joined, null/undefined/false dropped. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes text for an HTML element or a quoted attribute, after one last pass of secret
 * redaction: a value the process knows to be secret never reaches a page, whatever carried it.
 */
function escapeHtml(text: string): string {
  return redact(text).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.toString();
  if (Array.isArray(value)) return value.map((v: HtmlValue) => render(v)).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/** A template tag that escapes every interpolated value: the only way pages are built. */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/**
 * JSON for a `<script type="application/json">` block: `<`, `>` and `&` become \u escapes, so
 * no value can close the element, and the data is read with JSON.parse, never executed.
 */
export function jsonForScript(value: unknown): SafeHtml {
  return new SafeHtml(redact(JSON.stringify(value)).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
