/* generated from catalog/ by `npm run gen` (packages/qbo-catalog/scripts) — do not edit */

/**
 * Reserved extraction fields the tap adds to every record of an entity stream (docs/architecture.md).
 */
export interface SdcFields {
  _sdc_extract_window_start_utc?: null | string;
  _sdc_extract_window_end_utc?: null | string;
  /**
   * 1-based page within the window.
   */
  _sdc_page_number?: null | number;
  /**
   * MAXRESULTS used.
   */
  _sdc_page_size?: null | number;
  /**
   * The request made; never a token.
   */
  _sdc_request_payload?: null | {
    method?: null | string;
    path?: null | string;
    query?: null | string;
    minorversion?: null | number;
    [k: string]: unknown;
  };
  _sdc_extracted_at?: null | string;
  _sdc_realm_id?: null | string;
  _sdc_run_id?: null | string;
  /**
   * Set only on a deletion (the record is QBO's CDC stub): when QBO deleted the object. The Singer SDK's soft-delete field.
   */
  _sdc_deleted_at?: null | string;
  [k: string]: unknown;
}
