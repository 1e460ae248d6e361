import { MONEY_STYLES, arr, bool, int, money, obj, quantity, ref, str, type Member } from './jsonText.js';
import { formatPacific, pacificDate } from './pacificTime.js';
import { Rng } from './rng.js';

/**
 * One generated record's facts. Everything else in its body is drawn from
 * `Rng.of(seed, entity, id)`, so the same record renders to the same bytes every time.
 */
export interface RecordContext {
  readonly seed: number;
  readonly id: number;
  readonly createSec: number;
  readonly updatedSec: number;
  readonly syncToken: number;
  readonly active: boolean;
  /** How many records another entity has, so references point at records that exist. */
  readonly countOf: (entity: string) => number;
}

interface Draw {
  readonly ctx: RecordContext;
  readonly rng: Rng;
  /** A money text in a randomly chosen style: the same company serves `275` and `275.0`. */
  readonly m: (cents: number) => string;
  /** A reference to an existing record of `entity`, with its display name. */
  readonly refTo: (entity: string) => string;
  /** The same, as parts, when the name is needed too. */
  readonly pickRef: (entity: string) => { readonly id: number; readonly name: string };
}

/** Members before and after the common block (domain, sparse, Id, SyncToken, MetaData), as QBO orders them. */
type Template = (d: Draw) => { readonly head: readonly Member[]; readonly tail: readonly Member[] };

const FIRST = ['Amy', 'Bill', 'Carla', 'Dmitri', 'Emily', 'Farah', 'Gus', 'Hiro', 'Ines', 'Jonas', 'Kofi', 'Lena', 'Mark', 'Nadia', 'Omar', 'Priya'];
const LAST = ['Cho', 'Lauterbach', 'Platt', 'Waldron', 'Martini', 'Philip', 'Okafor', 'Schmidt', 'Tanaka', 'Garcia', 'Novak', 'Silva'];
/** Real companies have accents, CJK, emoji and right-to-left names; so does ours. */
const UNUSUAL_NAMES = ['Zoë Ångström', 'José Núñez', 'Björk Guðmundsdóttir', '東京商事', '🌮 Taco Truck', 'مطعم القدس', 'Łódź Trading', 'Crème Brûlée Café'];
const COMPANY_WORDS = ['Sanctuary', 'Diner', 'Masonry', 'Properties', 'Landscaping', 'Supply', 'Plumbing', 'Books', 'Garden', 'Electric'];
const ITEM_NAMES = [
  'Rock Fountain',
  'Sprinkler Pipes',
  'Pest Control',
  'Concrete',
  'Design',
  'Gardening',
  'Hours',
  'Installation',
  'Lighting',
  'Maintenance',
  'Pump',
  'Soil',
  'Trimming',
];
const ACCOUNTS: ReadonlyArray<readonly [string, string, string, string]> = [
  ['Checking', 'Asset', 'Bank', 'Checking'],
  ['Undeposited Funds', 'Asset', 'Other Current Asset', 'UndepositedFunds'],
  ['Accounts Receivable (A/R)', 'Asset', 'Accounts Receivable', 'AccountsReceivable'],
  ['Accounts Payable (A/P)', 'Liability', 'Accounts Payable', 'AccountsPayable'],
  ['Rent or Lease', 'Expense', 'Expense', 'RentOrLeaseOfBuildings'],
  ['Landscaping Services', 'Revenue', 'Income', 'ServiceFeeIncome'],
  ['Fountains and Garden Lighting', 'Revenue', 'Income', 'SalesOfProductIncome'],
  ['Job Materials', 'Expense', 'Expense', 'SuppliesMaterials'],
];

function personName(rng: Rng): [given: string, family: string] {
  return [rng.pick(FIRST), rng.pick(LAST)];
}

/** The display name of record `id` of `entity`; both the record and references to it use this. */
function displayName(seed: number, entity: string, id: number): string {
  const rng = Rng.of(seed, entity, id, 'name');
  switch (entity) {
    case 'Customer': {
      if (rng.chance(0.1)) return `${rng.pick(UNUSUAL_NAMES)} ${id}`;
      const [g, f] = personName(rng);
      return `${g} ${f} ${id}`;
    }
    case 'Vendor':
      return `${rng.pick(LAST)} ${rng.pick(COMPANY_WORDS)} ${id}`;
    case 'Employee': {
      const [g, f] = personName(rng);
      return `${g} ${f} ${id}`;
    }
    case 'Item':
      return `${rng.pick(ITEM_NAMES)} ${id}`;
    case 'Account':
      return `${(ACCOUNTS[id % ACCOUNTS.length] as readonly string[])[0]} ${id}`;
    default:
      return `${entity} ${id}`;
  }
}

const USD = ref('USD', 'United States Dollar');
const CITIES = [
  ['Menlo Park', 'CA', '94304'],
  ['Bayshore', 'CA', '94326'],
  ['Middlefield', 'CA', '94482'],
  ['Portland', 'OR', '97201'],
] as const;

function address(d: Draw): string {
  const [city, state, zip] = d.rng.pick(CITIES);
  const invalid = d.rng.chance(0.3);
  return obj([
    ['Id', str(String(d.rng.int(1, 500)))],
    ['Line1', str(`${d.rng.int(1, 9999)} ${d.rng.pick(['Willow Rd', 'Finch St.', 'Elm St.', 'Red Rock Rd.', 'Calle Añil'])}`)],
    ['City', str(city)],
    ['CountrySubDivisionCode', str(state)],
    ['PostalCode', str(zip)],
    ['Lat', str(invalid ? 'INVALID' : `37.${d.rng.int(100000, 999999)}`)],
    ['Long', str(invalid ? 'INVALID' : `-122.${d.rng.int(100000, 999999)}`)],
  ]);
}

const email = (name: string) => obj([['Address', str(`${name.replace(/[^A-Za-z]/g, '').toLowerCase() || 'info'}@example.com`)]]);
const phone = (d: Draw) => obj([['FreeFormNumber', str(`(${d.rng.int(200, 999)}) 555-${String(d.rng.int(0, 9999)).padStart(4, '0')}`)]]);
const txnDate = (d: Draw) => str(pacificDate(d.ctx.createSec));
const docNumber = (d: Draw) => str(String(1000 + d.ctx.id));
const customField = (d: Draw) =>
  arr([
    obj([
      ['DefinitionId', str('1')],
      ['Name', str('Crew #')],
      ['Type', str('StringType')],
      ['StringValue', d.rng.chance(0.5) ? str(String(d.rng.int(100, 199))) : undefined],
    ]),
  ]);
const linked = (id: number, type: string) =>
  obj([
    ['TxnId', str(String(id))],
    ['TxnType', str(type)],
  ]);

/** Quantities in hundredths: whole and fractional, as real invoices have (`3.5`, `0.25`). */
const QTY = [100, 100, 100, 200, 300, 400, 50, 150, 250, 350, 25];

/** Sales lines, a subtotal line and 8 % tax on taxable lines; totals add up to the cent. */
function salesBody(d: Draw): { lines: string; tax: string; subtotal: number; total: number } {
  const lines: string[] = [];
  let subtotal = 0;
  let taxable = 0;
  const n = d.rng.int(1, 4);
  for (let i = 1; i <= n; i++) {
    const big = d.rng.chance(0.01);
    const qty = big ? 100 : d.rng.pick(QTY);
    // A price in cents divisible by 4 keeps qty × price a whole number of cents for quarter quantities.
    const price = big ? 123456710 : d.rng.int(1, 12500) * 4;
    const amount = (qty * price) / 100;
    const isTaxable = d.rng.chance(0.6);
    subtotal += amount;
    if (isTaxable) taxable += amount;
    const item = d.rng.int(1, Math.max(1, d.ctx.countOf('Item')));
    lines.push(
      obj([
        ['Id', str(String(i))],
        ['LineNum', int(i)],
        ['Description', str(displayName(d.ctx.seed, 'Item', item))],
        ['Amount', d.m(amount)],
        ['DetailType', str('SalesItemLineDetail')],
        [
          'SalesItemLineDetail',
          obj([
            ['ItemRef', ref(item, displayName(d.ctx.seed, 'Item', item))],
            ['UnitPrice', d.m(price)],
            ['Qty', quantity(qty)],
            ['TaxCodeRef', ref(isTaxable ? 'TAX' : 'NON')],
          ]),
        ],
      ]),
    );
  }
  lines.push(
    obj([
      ['Amount', d.m(subtotal)],
      ['DetailType', str('SubTotalLineDetail')],
      ['SubTotalLineDetail', '{}'],
    ]),
  );
  const totalTax = Math.round((taxable * 8) / 100);
  const tax =
    totalTax === 0
      ? obj([['TotalTax', int(0)]])
      : obj([
          ['TxnTaxCodeRef', ref(2)],
          ['TotalTax', d.m(totalTax)],
          [
            'TaxLine',
            arr([
              obj([
                ['Amount', d.m(totalTax)],
                ['DetailType', str('TaxLineDetail')],
                [
                  'TaxLineDetail',
                  obj([
                    ['TaxRateRef', ref(3)],
                    ['PercentBased', 'true'],
                    ['TaxPercent', int(8)],
                    ['NetAmountTaxable', d.m(taxable)],
                  ]),
                ],
              ]),
            ]),
          ],
        ]);
  return { lines: arr(lines), tax, subtotal, total: subtotal + totalTax };
}

function salesTemplate(entity: 'Invoice' | 'Estimate' | 'SalesReceipt' | 'CreditMemo' | 'RefundReceipt'): Template {
  return (d) => {
    const body = salesBody(d);
    const customer = d.pickRef('Customer');
    const paid = d.rng.chance(0.5);
    const isInvoice = entity === 'Invoice';
    const deposits = entity === 'SalesReceipt' || entity === 'RefundReceipt';
    return {
      head: [
        ['AllowIPNPayment', isInvoice ? 'false' : undefined],
        ['AllowOnlinePayment', isInvoice ? 'false' : undefined],
        ['AllowOnlineCreditCardPayment', isInvoice ? 'false' : undefined],
        ['AllowOnlineACHPayment', isInvoice ? 'false' : undefined],
        ['RemainingCredit', entity === 'CreditMemo' ? d.m(paid ? 0 : body.total) : undefined],
      ],
      tail: [
        ['CustomField', customField(d)],
        ['DocNumber', docNumber(d)],
        ['TxnDate', txnDate(d)],
        ['CurrencyRef', USD],
        ['TxnStatus', entity === 'Estimate' ? str(d.rng.pick(['Pending', 'Accepted', 'Closed'])) : undefined],
        ['LinkedTxn', isInvoice || entity === 'Estimate' ? '[]' : undefined],
        ['Line', body.lines],
        ['TxnTaxDetail', body.tax],
        ['CustomerRef', ref(customer.id, customer.name)],
        ['CustomerMemo', obj([['value', str('Thank you for your business and have a great day!')]])],
        ['BillAddr', address(d)],
        ['ShipAddr', d.rng.chance(0.7) ? address(d) : undefined],
        ['SalesTermRef', isInvoice ? ref(3, 'Net 30') : undefined],
        ['DueDate', isInvoice ? str(pacificDate(d.ctx.createSec + 30 * 86400)) : undefined],
        ['PrivateNote', d.rng.chance(0.1) ? str('Ünïcödé note — 请尽快付款 🙏') : undefined],
        ['TotalAmt', d.m(body.total)],
        ['ApplyTaxAfterDiscount', 'false'],
        ['PrintStatus', str(d.rng.pick(['NotSet', 'NeedToPrint', 'PrintComplete']))],
        ['EmailStatus', str(d.rng.pick(['NotSet', 'NeedToSend', 'EmailSent']))],
        ['BillEmail', email(customer.name)],
        ['DepositToAccountRef', deposits ? d.refTo('Account') : undefined],
        ['PaymentMethodRef', deposits ? d.refTo('PaymentMethod') : undefined],
        ['Balance', isInvoice ? d.m(paid ? 0 : body.total) : undefined],
      ],
    };
  };
}

function expenseLines(d: Draw): { lines: string; total: number } {
  const lines: string[] = [];
  let total = 0;
  const n = d.rng.int(1, 3);
  for (let i = 1; i <= n; i++) {
    const amount = d.rng.int(100, 500000);
    total += amount;
    const byItem = d.rng.chance(0.4);
    const detail = byItem ? 'ItemBasedExpenseLineDetail' : 'AccountBasedExpenseLineDetail';
    lines.push(
      obj([
        ['Id', str(String(i))],
        ['LineNum', int(i)],
        ['Description', str(d.rng.pick(['Building Lease', 'Job Materials', 'Equipment Rental', 'Fuel ⛽', 'Café supplies']))],
        ['Amount', d.m(amount)],
        ['DetailType', str(detail)],
        [
          detail,
          byItem
            ? obj([
                ['BillableStatus', str('NotBillable')],
                ['ItemRef', d.refTo('Item')],
                ['UnitPrice', d.m(amount)],
                ['Qty', int(1)],
                ['TaxCodeRef', ref('NON')],
              ])
            : obj([
                ['AccountRef', d.refTo('Account')],
                ['BillableStatus', str('NotBillable')],
                ['TaxCodeRef', ref('NON')],
              ]),
        ],
      ]),
    );
  }
  return { lines: arr(lines), total };
}

function expenseTemplate(entity: 'Bill' | 'Purchase' | 'PurchaseOrder' | 'VendorCredit'): Template {
  return (d) => {
    const body = expenseLines(d);
    const { id: vendorId, name: vendorName } = d.pickRef('Vendor');
    return {
      head: [
        ['SalesTermRef', entity === 'Bill' ? ref(3) : undefined],
        ['DueDate', entity === 'Bill' ? str(pacificDate(d.ctx.createSec + 30 * 86400)) : undefined],
        ['Balance', entity === 'Bill' || entity === 'VendorCredit' ? d.m(d.rng.chance(0.5) ? 0 : body.total) : undefined],
        ['POStatus', entity === 'PurchaseOrder' ? str(d.rng.pick(['Open', 'Closed'])) : undefined],
        ['AccountRef', entity === 'Purchase' ? d.refTo('Account') : undefined],
        ['PaymentType', entity === 'Purchase' ? str(d.rng.pick(['Cash', 'Check', 'CreditCard'])) : undefined],
        ['Credit', entity === 'Purchase' ? bool(d.rng.chance(0.05)) : undefined],
      ],
      tail: [
        ['DocNumber', entity === 'Purchase' ? undefined : docNumber(d)],
        ['TxnDate', txnDate(d)],
        ['CurrencyRef', USD],
        ['LinkedTxn', entity === 'Purchase' ? undefined : '[]'],
        ['Line', body.lines],
        ['VendorRef', entity === 'Purchase' ? undefined : ref(vendorId, vendorName)],
        // Purchase names its payee as an EntityRef that also says what kind of entity it is.
        [
          'EntityRef',
          entity === 'Purchase'
            ? obj([
                ['value', str(String(vendorId))],
                ['name', str(vendorName)],
                ['type', str('Vendor')],
              ])
            : undefined,
        ],
        ['APAccountRef', entity === 'Bill' || entity === 'PurchaseOrder' || entity === 'VendorCredit' ? ref(33, 'Accounts Payable (A/P)') : undefined],
        ['TotalAmt', d.m(body.total)],
      ],
    };
  };
}

/** Payment, BillPayment and Deposit lines: an amount and the transactions it settles, no DetailType. */
function linkedLines(d: Draw, type: string): { lines: string; total: number } {
  const lines: string[] = [];
  let total = 0;
  for (let i = d.rng.int(1, 3); i > 0; i--) {
    const amount = d.rng.int(100, 300000);
    total += amount;
    lines.push(
      obj([
        ['Amount', d.m(amount)],
        ['LinkedTxn', arr([linked(d.rng.int(1, 5000), type)])],
      ]),
    );
  }
  return { lines: arr(lines), total };
}

const listCommon = (d: Draw, name: string): Member[] => [
  ['Name', str(name)],
  ['Active', bool(d.ctx.active)],
];

const TEMPLATES: Readonly<Record<string, Template>> = {
  Invoice: salesTemplate('Invoice'),
  Estimate: salesTemplate('Estimate'),
  SalesReceipt: salesTemplate('SalesReceipt'),
  CreditMemo: salesTemplate('CreditMemo'),
  RefundReceipt: salesTemplate('RefundReceipt'),
  Bill: expenseTemplate('Bill'),
  Purchase: expenseTemplate('Purchase'),
  PurchaseOrder: expenseTemplate('PurchaseOrder'),
  VendorCredit: expenseTemplate('VendorCredit'),
  Payment: (d) => {
    const body = linkedLines(d, 'Invoice');
    return {
      head: [
        ['CustomerRef', d.refTo('Customer')],
        ['DepositToAccountRef', d.refTo('Account')],
        ['TotalAmt', d.m(body.total)],
        ['UnappliedAmt', d.m(0)],
        ['ProcessPayment', 'false'],
      ],
      tail: [
        ['TxnDate', txnDate(d)],
        ['CurrencyRef', USD],
        ['LinkedTxn', '[]'],
        ['Line', body.lines],
      ],
    };
  },
  BillPayment: (d) => {
    const body = linkedLines(d, 'Bill');
    return {
      head: [
        ['VendorRef', d.refTo('Vendor')],
        ['PayType', str('Check')],
        [
          'CheckPayment',
          obj([
            ['BankAccountRef', d.refTo('Account')],
            ['PrintStatus', str('NotSet')],
          ]),
        ],
        ['TotalAmt', d.m(body.total)],
      ],
      tail: [
        ['DocNumber', docNumber(d)],
        ['TxnDate', txnDate(d)],
        ['CurrencyRef', USD],
        ['Line', body.lines],
      ],
    };
  },
  Deposit: (d) => {
    const body = linkedLines(d, 'Payment');
    return {
      head: [
        ['DepositToAccountRef', d.refTo('Account')],
        ['TotalAmt', d.m(body.total)],
      ],
      tail: [
        ['TxnDate', txnDate(d)],
        ['CurrencyRef', USD],
        ['PrivateNote', d.rng.chance(0.2) ? str('Dépôt du vendredi') : undefined],
        ['Line', body.lines],
      ],
    };
  },
  Transfer: (d) => ({
    head: [
      ['FromAccountRef', d.refTo('Account')],
      ['ToAccountRef', d.refTo('Account')],
      ['Amount', d.m(d.rng.int(100, 10000000))],
    ],
    tail: [
      ['TxnDate', txnDate(d)],
      ['CurrencyRef', USD],
      ['PrivateNote', d.rng.chance(0.3) ? str('Opening balance transfer') : undefined],
    ],
  }),
  JournalEntry: (d) => {
    const amount = d.m(d.rng.int(100, 2000000));
    const line = (id: number, posting: string) =>
      obj([
        ['Id', str(String(id))],
        ['Description', str(posting === 'Debit' ? 'Adjustment' : 'Contra')],
        ['Amount', amount],
        ['DetailType', str('JournalEntryLineDetail')],
        [
          'JournalEntryLineDetail',
          obj([
            ['PostingType', str(posting)],
            ['AccountRef', d.refTo('Account')],
          ]),
        ],
      ]);
    return {
      head: [['Adjustment', bool(d.rng.chance(0.1))]],
      tail: [
        ['DocNumber', docNumber(d)],
        ['TxnDate', txnDate(d)],
        ['CurrencyRef', USD],
        ['Line', arr([line(0, 'Debit'), line(1, 'Credit')])],
        ['TxnTaxDetail', '{}'],
      ],
    };
  },
  TimeActivity: (d) => ({
    head: [
      ['TxnDate', txnDate(d)],
      ['NameOf', str('Employee')],
      ['EmployeeRef', d.refTo('Employee')],
      ['CustomerRef', d.refTo('Customer')],
      ['ItemRef', d.refTo('Item')],
      ['BillableStatus', str(d.rng.pick(['Billable', 'NotBillable', 'HasBeenBilled']))],
      ['Taxable', 'false'],
      ['HourlyRate', d.m(d.rng.int(20, 150) * 100)],
      ['Hours', int(d.rng.int(0, 8))],
      ['Minutes', int(d.rng.pick([0, 15, 30, 45]))],
      ['Description', str('Gardening — Pflanzarbeiten')],
    ],
    tail: [],
  }),
  Account: (d) => {
    const [, classification, type, subType] = ACCOUNTS[d.ctx.id % ACCOUNTS.length] as readonly [string, string, string, string];
    const name = displayName(d.ctx.seed, 'Account', d.ctx.id);
    const balance = d.m(d.rng.int(-500000, 5000000));
    return {
      head: [
        ['Name', str(name)],
        ['SubAccount', 'false'],
        ['FullyQualifiedName', str(name)],
        ['Active', bool(d.ctx.active)],
        ['Classification', str(classification)],
        ['AccountType', str(type)],
        ['AccountSubType', str(subType)],
        ['CurrentBalance', balance],
        ['CurrentBalanceWithSubAccounts', balance],
        ['CurrencyRef', USD],
      ],
      tail: [],
    };
  },
  Class: (d) => ({ head: [...listCommon(d, `Class ${d.ctx.id}`), ['SubClass', 'false'], ['FullyQualifiedName', str(`Class ${d.ctx.id}`)]], tail: [] }),
  Department: (d) => ({
    head: [...listCommon(d, `Location ${d.ctx.id}`), ['SubDepartment', 'false'], ['FullyQualifiedName', str(`Location ${d.ctx.id}`)]],
    tail: [],
  }),
  Customer: (d) => {
    const name = displayName(d.ctx.seed, 'Customer', d.ctx.id);
    const addr = address(d);
    const balance = d.m(d.rng.chance(0.5) ? 0 : d.rng.int(100, 1000000));
    const [given, family] = name.split(' ');
    // Some customers are jobs of an older customer: QBO names them "Parent:Child".
    const parentId = d.ctx.id > 1 && d.rng.chance(0.1) ? d.rng.int(1, d.ctx.id - 1) : undefined;
    const parentName = parentId === undefined ? undefined : displayName(d.ctx.seed, 'Customer', parentId);
    return {
      head: [
        ['Taxable', bool(d.rng.chance(0.5))],
        ['BillAddr', addr],
        ['ShipAddr', d.rng.chance(0.6) ? addr : undefined],
        ['Job', bool(parentId !== undefined)],
        ['BillWithParent', bool(parentId !== undefined && d.rng.chance(0.5))],
        ['ParentRef', parentId === undefined ? undefined : ref(parentId, parentName)],
        ['Level', parentId === undefined ? undefined : int(1)],
        ['Balance', balance],
        ['BalanceWithJobs', balance],
        ['CurrencyRef', USD],
        ['PreferredDeliveryMethod', str(d.rng.pick(['Print', 'Email', 'None']))],
      ],
      tail: [
        ['GivenName', given === undefined ? undefined : str(given)],
        ['FamilyName', family === undefined ? undefined : str(family)],
        ['FullyQualifiedName', str(parentName === undefined ? name : `${parentName}:${name}`)],
        ['CompanyName', d.rng.chance(0.4) ? str(`${name} ${d.rng.pick(COMPANY_WORDS)}`) : undefined],
        ['DisplayName', str(name)],
        ['PrintOnCheckName', str(name)],
        ['Active', bool(d.ctx.active)],
        ['PrimaryPhone', d.rng.chance(0.7) ? phone(d) : undefined],
        ['PrimaryEmailAddr', d.rng.chance(0.8) ? email(name) : undefined],
        ['Notes', d.rng.chance(0.1) ? str('Prefers calls in the morning ☎️') : undefined],
      ],
    };
  },
  Employee: (d) => {
    const name = displayName(d.ctx.seed, 'Employee', d.ctx.id);
    const [given, family] = name.split(' ');
    return {
      head: [
        ['BillableTime', 'false'],
        ['BillRate', d.rng.chance(0.5) ? d.m(d.rng.int(15, 90) * 100) : undefined],
      ],
      tail: [
        ['GivenName', str(given ?? name)],
        ['FamilyName', str(family ?? name)],
        ['DisplayName', str(name)],
        ['PrintOnCheckName', str(name)],
        ['Active', bool(d.ctx.active)],
        ['PrimaryPhone', d.rng.chance(0.5) ? phone(d) : undefined],
        ['HiredDate', d.rng.chance(0.5) ? str(pacificDate(d.ctx.createSec - d.rng.int(0, 2000) * 86400)) : undefined],
      ],
    };
  },
  Item: (d) => {
    const name = displayName(d.ctx.seed, 'Item', d.ctx.id);
    const inventory = d.rng.chance(0.3);
    return {
      head: [
        ...listCommon(d, name),
        ['Description', str(`${name} — installed`)],
        ['FullyQualifiedName', str(name)],
        ['Taxable', bool(d.rng.chance(0.6))],
        ['UnitPrice', d.m(d.rng.int(0, 50000))],
        ['Type', str(inventory ? 'Inventory' : d.rng.pick(['Service', 'NonInventory']))],
        ['IncomeAccountRef', d.refTo('Account')],
        ['PurchaseCost', d.m(d.rng.int(0, 30000))],
        ['ExpenseAccountRef', inventory ? d.refTo('Account') : undefined],
        ['AssetAccountRef', inventory ? d.refTo('Account') : undefined],
        ['TrackQtyOnHand', bool(inventory)],
        ['QtyOnHand', inventory ? quantity(d.rng.int(0, 10000) * 25) : undefined],
        ['InvStartDate', inventory ? str(pacificDate(d.ctx.createSec)) : undefined],
      ],
      tail: [],
    };
  },
  PaymentMethod: (d) => ({
    head: [
      ...listCommon(d, `${d.rng.pick(['Visa', 'Cash', 'Check', 'MasterCard', 'Diners Club'])} ${d.ctx.id}`),
      ['Type', str(d.rng.pick(['CREDIT_CARD', 'NON_CREDIT_CARD']))],
    ],
    tail: [],
  }),
  TaxCode: (d) => ({
    head: [
      ...listCommon(d, `Tax code ${d.ctx.id}`),
      ['Description', str('Sales tax')],
      ['Taxable', 'true'],
      ['TaxGroup', 'true'],
      [
        'SalesTaxRateList',
        obj([
          [
            'TaxRateDetail',
            arr([
              obj([
                ['TaxRateRef', d.refTo('TaxRate')],
                ['TaxTypeApplicable', str('TaxOnAmount')],
                ['TaxOrder', int(0)],
              ]),
            ]),
          ],
        ]),
      ],
      ['PurchaseTaxRateList', obj([['TaxRateDetail', '[]']])],
    ],
    tail: [],
  }),
  TaxRate: (d) => ({
    head: [
      ...listCommon(d, `Tax rate ${d.ctx.id}`),
      ['Description', str('Sales Tax')],
      ['RateValue', quantity(d.rng.pick([800, 725, 1025, 0, 650]))],
      ['AgencyRef', ref(d.rng.int(1, Math.max(1, d.ctx.countOf('TaxAgency'))))],
      ['SpecialTaxType', str('NONE')],
      ['DisplayType', str('ReadOnly')],
    ],
    tail: [],
  }),
  Term: (d) => {
    const days = d.rng.pick([10, 15, 30, 60]);
    return { head: [...listCommon(d, `Net ${days} (${d.ctx.id})`), ['Type', str('STANDARD')], ['DueDays', int(days)], ['DiscountDays', int(0)]], tail: [] };
  },
  Vendor: (d) => {
    const name = displayName(d.ctx.seed, 'Vendor', d.ctx.id);
    return {
      head: [
        ['BillAddr', address(d)],
        ['Balance', d.m(d.rng.chance(0.5) ? 0 : d.rng.int(100, 500000))],
        ['Vendor1099', bool(d.rng.chance(0.2))],
        ['CurrencyRef', USD],
      ],
      tail: [
        ['CompanyName', str(name)],
        ['DisplayName', str(name)],
        ['PrintOnCheckName', str(name)],
        ['Active', bool(d.ctx.active)],
        ['PrimaryPhone', d.rng.chance(0.6) ? phone(d) : undefined],
        ['PrimaryEmailAddr', d.rng.chance(0.6) ? email(name) : undefined],
        ['WebAddr', d.rng.chance(0.3) ? obj([['URI', str(`http://www.${name.split(' ')[0]?.toLowerCase()}.example.com`)]]) : undefined],
      ],
    };
  },
  TaxAgency: (d) => ({
    head: [
      ['TaxTrackedOnPurchases', 'false'],
      ['TaxTrackedOnSales', 'true'],
    ],
    tail: [['DisplayName', str(`Board of Equalization ${d.ctx.id}`)]],
  }),
  CompanyInfo: (d) => ({
    head: [
      ['CompanyName', str("Craig's Design and Landscaping Services")],
      ['LegalName', str("Craig's Design and Landscaping Services")],
      ['CompanyAddr', address(d)],
      ['CustomerCommunicationAddr', address(d)],
      ['Country', str('US')],
      ['Email', obj([['Address', str('noreply@example.com')]])],
      ['SupportedLanguages', str('en')],
      ['DefaultTimeZone', str('America/Los_Angeles')],
      ['FiscalYearStartMonth', str('January')],
      ['CompanyStartDate', str(pacificDate(d.ctx.createSec))],
    ],
    tail: [],
  }),
};

function draw(entity: string, ctx: RecordContext): Draw {
  const rng = Rng.of(ctx.seed, entity, ctx.id);
  const pickRef = (target: string) => {
    const id = rng.int(1, Math.max(1, ctx.countOf(target)));
    return { id, name: displayName(ctx.seed, target, id) };
  };
  return {
    ctx,
    rng,
    m: (cents) => money(cents, rng.pick(MONEY_STYLES)),
    pickRef,
    refTo: (target) => {
      const { id, name } = pickRef(target);
      return ref(id, name);
    },
  };
}

/** The record's JSON text, exactly as the emulator serves it. */
export function renderRecord(entity: string, ctx: RecordContext): string {
  const template = TEMPLATES[entity];
  if (!template) throw new Error(`no record template for entity ${entity}`);
  const { head, tail } = template(draw(entity, ctx));
  return obj([
    ...head,
    ['domain', str('QBO')],
    ['sparse', 'false'],
    ['Id', str(String(ctx.id))],
    ['SyncToken', str(String(ctx.syncToken))],
    [
      'MetaData',
      obj([
        ['CreateTime', str(formatPacific(ctx.createSec))],
        ['LastUpdatedTime', str(formatPacific(ctx.updatedSec))],
      ]),
    ],
    ...tail,
  ]);
}

const propertyCache = new Map<string, ReadonlySet<string>>();

/**
 * Top-level property names an entity's records may carry (present or not in a given record),
 * lower-cased; a query naming anything else is a 4001 validation error, as in QBO. Templates
 * list optional members with an undefined value, so one rendering shows them all.
 */
export function templateProperties(entity: string): ReadonlySet<string> {
  const cached = propertyCache.get(entity);
  if (cached) return cached;
  const template = TEMPLATES[entity];
  if (!template) return new Set();
  const ctx: RecordContext = { seed: 0, id: 1, createSec: 0, updatedSec: 0, syncToken: 0, active: true, countOf: () => 1 };
  const { head, tail } = template(draw(entity, ctx));
  const properties = new Set([...head, ...tail].map(([k]) => k.toLowerCase()).concat(['domain', 'sparse', 'id', 'synctoken', 'metadata']));
  propertyCache.set(entity, properties);
  return properties;
}
