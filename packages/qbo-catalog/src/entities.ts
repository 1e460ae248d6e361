/**
 * The QBO entities this project extracts, one row each. Adding an entity means adding a row
 * here and a JSON Schema in `catalog/_src/<stream>.json`, then `npm run gen`; nothing else
 * should need to change.
 *
 * - `stream`: Singer stream name = table name (snake_case plural, as singer-io and Airbyte name them)
 * - `entity`: the name used in `FROM` and as the key of `QueryResponse`
 * - `nameList`: soft-deleted via `Active:false`; queries must say `Active IN (true,false)`
 * - `cdc`: the CDC endpoint accepts it (deletes are visible only for these)
 * - `transaction`: hard-deleted in QBO (a CDC `Deleted` stub is the only trace)
 * - `replication`: INCREMENTAL on MetaData.LastUpdatedTime, or FULL_TABLE for single-row entities
 */
export interface EntityInfo {
  readonly stream: string;
  readonly entity: string;
  readonly nameList: boolean;
  readonly cdc: boolean;
  readonly transaction: boolean;
  readonly replication: 'INCREMENTAL' | 'FULL_TABLE';
}

const row = (stream: string, entity: string, kind: 'list' | 'txn' | 'other', cdc = true, replication: EntityInfo['replication'] = 'INCREMENTAL'): EntityInfo =>
  Object.freeze({ stream, entity, nameList: kind === 'list', cdc, transaction: kind === 'txn', replication });

export const ENTITIES: readonly EntityInfo[] = Object.freeze([
  row('accounts', 'Account', 'list'),
  row('bill_payments', 'BillPayment', 'txn'),
  row('bills', 'Bill', 'txn'),
  row('classes', 'Class', 'list'),
  row('company_info', 'CompanyInfo', 'other', false, 'FULL_TABLE'),
  row('credit_memos', 'CreditMemo', 'txn'),
  row('customers', 'Customer', 'list'),
  row('departments', 'Department', 'list'),
  row('deposits', 'Deposit', 'txn'),
  row('employees', 'Employee', 'list'),
  row('estimates', 'Estimate', 'txn'),
  row('invoices', 'Invoice', 'txn'),
  row('items', 'Item', 'list'),
  row('journal_entries', 'JournalEntry', 'txn'),
  row('payment_methods', 'PaymentMethod', 'list'),
  row('payments', 'Payment', 'txn'),
  row('purchase_orders', 'PurchaseOrder', 'txn'),
  row('purchases', 'Purchase', 'txn'),
  row('refund_receipts', 'RefundReceipt', 'txn'),
  row('sales_receipts', 'SalesReceipt', 'txn'),
  row('tax_agencies', 'TaxAgency', 'other', false),
  row('tax_codes', 'TaxCode', 'list', false),
  row('tax_rates', 'TaxRate', 'list', false),
  row('terms', 'Term', 'list'),
  row('time_activities', 'TimeActivity', 'other', false),
  row('transfers', 'Transfer', 'txn'),
  row('vendor_credits', 'VendorCredit', 'txn'),
  row('vendors', 'Vendor', 'list'),
]);

const byStream = new Map(ENTITIES.map((e) => [e.stream, e]));
const byEntity = new Map(ENTITIES.map((e) => [e.entity.toLowerCase(), e]));

export function entityByStream(stream: string): EntityInfo | undefined {
  return byStream.get(stream);
}

/** Case-insensitive, as QBO treats entity names in queries. */
export function entityByName(entity: string): EntityInfo | undefined {
  return byEntity.get(entity.toLowerCase());
}
