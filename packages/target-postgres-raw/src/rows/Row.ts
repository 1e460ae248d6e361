import type { Instant } from './recordInstant.js';

/** The fields a buffered record is judged by: its id, its age, and its load-statistics group and company. */
export interface RecordFacts {
  readonly id: string;
  /** MetaData.LastUpdatedTime: newest wins, inside a batch and against the stored row. */
  readonly lastUpdated: Instant | null;
  readonly extractWindowStart: Instant | null;
  readonly realmId: string | null;
  /** The tap's run id (`_sdc_run_id`), for load statistics. */
  readonly runId: string | null;
  /** Input line number, for error messages. */
  readonly line: number;
}

/** One record as it goes to PostgreSQL: null where the record had nothing. */
export interface Row extends RecordFacts {
  /** The entity's JSON text without `_sdc_*` members, digits exactly as received, as UTF-8 bytes. */
  readonly payload: Buffer;
  readonly extractWindowEnd: Instant | null;
  readonly pageNumber: number | null;
  readonly pageSize: number | null;
  readonly requestPayload: string | null;
  readonly extractedAt: Instant | null;
  /** `_sdc_deleted_at`: set on a deletion record (PLAN contract 1), whose payload is the deletion stub. */
  readonly deletedAt: Instant | null;
}

/**
 * A record whose payload bytes equal the stored row's (same hash), found before it was parsed:
 * counted `unchanged` and never written, like a row the commit finds unchanged.
 */
export interface SkippedRecord extends RecordFacts {
  readonly skipped: true;
}
