import type { JsonObject } from 'singer-kit';
import { parseRecordInstant, type Instant } from './recordInstant.js';

const INT4_MAX = 2_147_483_647;

/** A record's `_sdc_*` metadata as its row's columns. */
export interface RecordMetadata {
  readonly extractWindowStart: Instant | null;
  readonly extractWindowEnd: Instant | null;
  readonly pageNumber: number | null;
  readonly pageSize: number | null;
  readonly realmId: string | null;
  readonly extractedAt: Instant | null;
  /** `_sdc_deleted_at`: set on a deletion record (PLAN contract 1). */
  readonly deletedAt: Instant | null;
  readonly runId: string | null;
}

/** What is wrong with a metadata value, in words that follow the record's name. */
export interface MetadataProblem {
  readonly problem: string;
}

class Problem extends Error {}

let last: { readonly reserved: JsonObject | undefined; readonly result: RecordMetadata | MetadataProblem } | undefined;

/**
 * The metadata of a record from its parsed `_sdc_*` members (or the whole parsed record;
 * undefined: it has none), or the first bad value. Records of one page share their members'
 * object (scanLine), so the last result is reused.
 */
export function readMetadata(reserved: JsonObject | undefined): RecordMetadata | MetadataProblem {
  if (reserved === undefined) return NO_METADATA;
  const previous = last;
  if (previous !== undefined && reserved !== undefined && previous.reserved === reserved) return previous.result;
  let result: RecordMetadata | MetadataProblem;
  try {
    result = metadata(reserved);
  } catch (error) {
    if (!(error instanceof Problem)) throw error;
    result = { problem: error.message };
  }
  last = { reserved, result };
  return result;
}

function metadata(record: JsonObject): RecordMetadata {
  const instant = (field: string): Instant | null => {
    const value = record[field];
    if (value === undefined || value === null) return null;
    const parsed = typeof value === 'string' ? parseRecordInstant(value) : undefined;
    if (!parsed) throw new Problem(`${field} is not an ISO 8601 date-time: ${JSON.stringify(value)}`);
    return parsed;
  };
  const int4 = (field: string): number | null => {
    const value = record[field];
    if (value === undefined || value === null) return null;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > INT4_MAX) {
      throw new Problem(`${field} must be an integer between 0 and ${INT4_MAX}: ${JSON.stringify(value)}`);
    }
    return value;
  };
  const str = (field: string): string | null => {
    const value = record[field];
    return value === undefined || value === null ? null : typeof value === 'string' ? value : JSON.stringify(value);
  };
  return {
    extractWindowStart: instant('_sdc_extract_window_start_utc'),
    extractWindowEnd: instant('_sdc_extract_window_end_utc'),
    pageNumber: int4('_sdc_page_number'),
    pageSize: int4('_sdc_page_size'),
    realmId: str('_sdc_realm_id'),
    extractedAt: instant('_sdc_extracted_at'),
    deletedAt: instant('_sdc_deleted_at'),
    runId: str('_sdc_run_id'),
  };
}

/** The metadata of a record without `_sdc_*` members (every column null). */
const NO_METADATA: RecordMetadata = Object.freeze(metadata({}));
