import type { Row } from '../rows/Row.js';

const SPECIAL = /[\\\n\r\t\u0000]/;
const SPECIAL_ALL = /[\\\n\r\t\u0000]/g;
const NOT_BACKSLASH = /[\n\r\t\u0000]/;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u0000': '\ufffd' };

/**
 * One value in COPY text format: `\N` for null; backslash, newline, CR and tab escaped so
 * `\n` inside JSON text stays two characters. NUL cannot be stored in text at all: U+FFFD.
 */
export function copyField(value: string | number | null): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  if (!SPECIAL.test(value)) return value;
  // JSON text usually has backslashes (escapes) and nothing else to escape: a plain replaceAll is much faster.
  return NOT_BACKSLASH.test(value) ? value.replace(SPECIAL_ALL, (c) => ESCAPED[c] as string) : value.replaceAll('\\', '\\\\');
}

/** A row as one COPY text line (columns in ROW_COLUMNS order), newline included. */
export function copyLine(row: Row): string {
  return (
    [
      copyField(row.id),
      copyField(row.payload),
      copyField(row.extractWindowStart),
      copyField(row.extractWindowEnd),
      copyField(row.pageNumber),
      copyField(row.pageSize),
      copyField(row.requestPayload),
      copyField(row.realmId),
      copyField(row.extractedAt),
      copyField(row.lastUpdated),
      copyField(row.runId),
    ].join('\t') + '\n'
  );
}
