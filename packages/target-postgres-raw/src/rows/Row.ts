/** One record as it goes to PostgreSQL: texts ready for COPY, null where the record had nothing. */
export interface Row {
  readonly id: string;
  /** The entity's JSON text without `_sdc_*` members, digits exactly as received. */
  readonly payload: string;
  readonly extractWindowStart: string | null;
  readonly extractWindowEnd: string | null;
  readonly pageNumber: number | null;
  readonly pageSize: number | null;
  readonly requestPayload: string | null;
  readonly realmId: string | null;
  readonly extractedAt: string | null;
  readonly lastUpdated: string | null;
  /** `lastUpdated` in ms since the epoch, for newest-wins inside a batch. */
  readonly lastUpdatedMs: number | undefined;
  /** The tap's run id (`_sdc_run_id`), for load statistics. */
  readonly runId: string | null;
  /** Input line number, for error messages. */
  readonly line: number;
}

/** The row's columns in the order of the staging table and COPY. */
export const ROW_COLUMNS = [
  'id',
  'payload',
  'extract_window_start_utc',
  'extract_window_end_utc',
  'page_number',
  'page_size',
  'request_payload',
  'realm_id',
  'extracted_at_utc',
  'last_updated_utc',
  'run_id',
] as const;
