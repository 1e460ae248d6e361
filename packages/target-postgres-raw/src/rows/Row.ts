import type { Instant } from './recordInstant.js';

/** One record as it goes to PostgreSQL: null where the record had nothing. */
export interface Row {
  readonly id: string;
  /** The entity's JSON text without `_sdc_*` members, digits exactly as received. */
  readonly payload: string;
  readonly extractWindowStart: Instant | null;
  readonly extractWindowEnd: Instant | null;
  readonly pageNumber: number | null;
  readonly pageSize: number | null;
  readonly requestPayload: string | null;
  readonly realmId: string | null;
  readonly extractedAt: Instant | null;
  /** MetaData.LastUpdatedTime: newest wins, inside a batch and against the stored row. */
  readonly lastUpdated: Instant | null;
  /** `_sdc_deleted_at`: set on a deletion record (PLAN contract 1), whose payload is the deletion stub. */
  readonly deletedAt: Instant | null;
  /** The tap's run id (`_sdc_run_id`), for load statistics. */
  readonly runId: string | null;
  /** Input line number, for error messages. */
  readonly line: number;
}
