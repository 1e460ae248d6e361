/* generated from catalog/ by `npm run gen` (packages/qbo-catalog/scripts) — do not edit */

/**
 * Read-only timestamps; LastUpdatedTime (US-Pacific offset) is the replication key.
 */
export type ModificationMetaData = null | {
  CreateTime?: null | string;
  LastUpdatedTime?: null | string;
  LastModifiedByRef?: ReferenceType;
  [k: string]: unknown;
};
/**
 * A reference to another entity: its Id in value and, optionally, its display name.
 */
export type ReferenceType = null | {
  value?: null | string;
  name?: null | string;
  /**
   * Entity type, on EntityRef (e.g. Vendor).
   */
  type?: null | string;
  [k: string]: unknown;
};
/**
 * Transaction lines. A line has Amount, DetailType and one detail object named after DetailType; Payment, BillPayment and Deposit lines may have only Amount and LinkedTxn.
 */
export type Lines = null | Line[];
export type Line = null | {
  Id?: null | string;
  LineNum?: null | number;
  Description?: null | string;
  Amount?: null | number;
  DetailType?: null | string;
  LinkedTxn?: LinkedTxns;
  LineEx?: OpaqueExtension;
  SalesItemLineDetail?: null | {
    ItemRef?: ReferenceType;
    ClassRef?: ReferenceType;
    ItemAccountRef?: ReferenceType;
    TaxCodeRef?: ReferenceType;
    UnitPrice?: null | number;
    /**
     * May be fractional (3.5).
     */
    Qty?: null | number;
    ServiceDate?: null | string;
    DiscountRate?: null | number;
    DiscountAmt?: null | number;
    TaxInclusiveAmt?: null | number;
    [k: string]: unknown;
  };
  SubTotalLineDetail?: null | {
    ItemRef?: ReferenceType;
    [k: string]: unknown;
  };
  DiscountLineDetail?: null | {
    PercentBased?: null | boolean;
    DiscountPercent?: null | number;
    DiscountAccountRef?: ReferenceType;
    ClassRef?: ReferenceType;
    TaxCodeRef?: ReferenceType;
    [k: string]: unknown;
  };
  DescriptionLineDetail?: null | {
    ServiceDate?: null | string;
    TaxCodeRef?: ReferenceType;
    [k: string]: unknown;
  };
  GroupLineDetail?: null | {
    GroupItemRef?: ReferenceType;
    Quantity?: null | number;
    Line?:
      | null
      | (null | {
          [k: string]: unknown;
        })[];
    [k: string]: unknown;
  };
  AccountBasedExpenseLineDetail?: null | {
    AccountRef?: ReferenceType;
    CustomerRef?: ReferenceType;
    ClassRef?: ReferenceType;
    TaxCodeRef?: ReferenceType;
    BillableStatus?: null | string;
    TaxAmount?: null | number;
    [k: string]: unknown;
  };
  ItemBasedExpenseLineDetail?: null | {
    ItemRef?: ReferenceType;
    CustomerRef?: ReferenceType;
    ClassRef?: ReferenceType;
    TaxCodeRef?: ReferenceType;
    UnitPrice?: null | number;
    Qty?: null | number;
    BillableStatus?: null | string;
    [k: string]: unknown;
  };
  JournalEntryLineDetail?: null | {
    /**
     * Debit or Credit.
     */
    PostingType?: null | string;
    AccountRef?: ReferenceType;
    Entity?: null | {
      Type?: null | string;
      EntityRef?: ReferenceType;
      [k: string]: unknown;
    };
    ClassRef?: ReferenceType;
    DepartmentRef?: ReferenceType;
    TaxCodeRef?: ReferenceType;
    TaxApplicableOn?: null | string;
    TaxAmount?: null | number;
    BillableStatus?: null | string;
    [k: string]: unknown;
  };
  DepositLineDetail?: null | {
    AccountRef?: ReferenceType;
    PaymentMethodRef?: ReferenceType;
    ClassRef?: ReferenceType;
    TaxCodeRef?: ReferenceType;
    CheckNum?: null | string;
    TxnType?: null | string;
    TaxApplicableOn?: null | string;
    [k: string]: unknown;
  };
  [k: string]: unknown;
};
export type LinkedTxns = null | LinkedTxn[];
export type LinkedTxn = null | {
  TxnId?: null | string;
  TxnType?: null | string;
  TxnLineId?: null | string;
  [k: string]: unknown;
};
/**
 * JAXB leakage such as PurchaseEx or LineEx, kept as returned: any[] of name/value wrappers.
 */
export type OpaqueExtension = null | {
  any?: null | JaxbElement[];
  [k: string]: unknown;
};
export type JaxbElement = null | {
  name?: null | string;
  declaredType?: null | string;
  scope?: null | string;
  value?: null | {
    Name?: null | string;
    Value?: null | string;
    [k: string]: unknown;
  };
  nil?: null | boolean;
  globalScope?: null | boolean;
  typeSubstituted?: null | boolean;
  [k: string]: unknown;
};
/**
 * A postal address. Lat and Long are strings and may be "INVALID".
 */
export type PhysicalAddress = null | {
  Id?: null | string;
  Line1?: null | string;
  Line2?: null | string;
  Line3?: null | string;
  Line4?: null | string;
  Line5?: null | string;
  City?: null | string;
  Country?: null | string;
  CountryCode?: null | string;
  CountrySubDivisionCode?: null | string;
  PostalCode?: null | string;
  Lat?: null | string;
  Long?: null | string;
  [k: string]: unknown;
};
/**
 * Transaction tax summary; may be {} (e.g. on JournalEntry).
 */
export type TxnTaxDetail = null | {
  TxnTaxCodeRef?: ReferenceType;
  TotalTax?: null | number;
  TaxLine?: null | TaxLine[];
  [k: string]: unknown;
};
export type TaxLine = null | {
  Id?: null | string;
  Amount?: null | number;
  DetailType?: null | string;
  TaxLineDetail?: null | {
    TaxRateRef?: ReferenceType;
    PercentBased?: null | boolean;
    TaxPercent?: null | number;
    NetAmountTaxable?: null | number;
    TaxInclusiveAmount?: null | number;
    OverrideDeltaAmount?: null | number;
    [k: string]: unknown;
  };
  [k: string]: unknown;
};
/**
 * Custom field values; StringValue is omitted when blank.
 */
export type CustomFields = null | CustomField[];
export type CustomField = null | {
  DefinitionId?: null | string;
  Name?: null | string;
  Type?: null | string;
  StringValue?: null | string;
  [k: string]: unknown;
};
export type EmailAddress = null | {
  Address?: null | string;
  [k: string]: unknown;
};
export type TelephoneNumber = null | {
  FreeFormNumber?: null | string;
  [k: string]: unknown;
};
export type WebSiteAddress = null | {
  URI?: null | string;
  [k: string]: unknown;
};
export type MemoRef = null | {
  value?: null | string;
  [k: string]: unknown;
};
export type TaxRateList = null | {
  TaxRateDetail?: null | TaxRateDetail[];
  [k: string]: unknown;
};
export type TaxRateDetail = null | {
  TaxRateRef?: ReferenceType;
  TaxTypeApplicable?: null | string;
  TaxOrder?: null | number;
  TaxOnTaxOrder?: null | number;
  [k: string]: unknown;
};

/**
 * The record type of each stream (entity fields only; entity streams also carry SdcFields).
 */
export interface StreamRecords {
  accounts: Account;
  bill_payments: BillPayment;
  bills: Bill;
  classes: Class;
  company_info: CompanyInfo;
  credit_memos: CreditMemo;
  customers: Customer;
  departments: Department;
  deposits: Deposit;
  employees: Employee;
  estimates: Estimate;
  invoices: Invoice;
  items: Item;
  journal_entries: JournalEntry;
  payment_methods: PaymentMethod;
  payments: Payment;
  purchase_orders: PurchaseOrder;
  purchases: Purchase;
  refund_receipts: RefundReceipt;
  sales_receipts: SalesReceipt;
  tax_agencies: TaxAgency;
  tax_codes: TaxCode;
  tax_rates: TaxRate;
  terms: Term;
  time_activities: TimeActivity;
  transfers: Transfer;
  vendor_credits: VendorCredit;
  vendors: Vendor;
  _volumetry: VolumetryRecord;
}
/**
 * A ledger account (chart of accounts).
 */
export interface Account {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  Name?: null | string;
  SubAccount?: null | boolean;
  ParentRef?: ReferenceType;
  FullyQualifiedName?: null | string;
  Active?: null | boolean;
  Classification?: null | string;
  AccountType?: null | string;
  AccountSubType?: null | string;
  AcctNum?: null | string;
  Description?: null | string;
  CurrentBalance?: null | number;
  CurrentBalanceWithSubAccounts?: null | number;
  CurrencyRef?: ReferenceType;
  TaxCodeRef?: ReferenceType;
  TxnLocationType?: null | string;
  [k: string]: unknown;
}
/**
 * A payment of vendor bills, by check or credit card.
 */
export interface BillPayment {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  DocNumber?: null | string;
  TxnDate?: null | string;
  PrivateNote?: null | string;
  CurrencyRef?: ReferenceType;
  ExchangeRate?: null | number;
  Line?: Lines;
  DepartmentRef?: ReferenceType;
  TransactionLocationType?: null | string;
  VendorRef?: ReferenceType;
  APAccountRef?: ReferenceType;
  PayType?: null | string;
  CheckPayment?: null | {
    BankAccountRef?: ReferenceType;
    PrintStatus?: null | string;
    PayeeAddr?: PhysicalAddress;
    [k: string]: unknown;
  };
  CreditCardPayment?: null | {
    CCAccountRef?: ReferenceType;
    [k: string]: unknown;
  };
  TotalAmt?: null | number;
  ProcessBillPayment?: null | boolean;
  [k: string]: unknown;
}
/**
 * A bill from a vendor (accounts payable).
 */
export interface Bill {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  DocNumber?: null | string;
  TxnDate?: null | string;
  PrivateNote?: null | string;
  CurrencyRef?: ReferenceType;
  ExchangeRate?: null | number;
  Line?: Lines;
  TxnTaxDetail?: TxnTaxDetail;
  LinkedTxn?: LinkedTxns;
  CustomField?: CustomFields;
  DepartmentRef?: ReferenceType;
  TotalAmt?: null | number;
  HomeTotalAmt?: null | number;
  GlobalTaxCalculation?: null | string;
  TransactionLocationType?: null | string;
  TxnSource?: null | string;
  VendorRef?: ReferenceType;
  VendorAddr?: PhysicalAddress;
  APAccountRef?: ReferenceType;
  SalesTermRef?: ReferenceType;
  DueDate?: null | string;
  Balance?: null | number;
  HomeBalance?: null | number;
  IncludeInAnnualTPAR?: null | boolean;
  [k: string]: unknown;
}
/**
 * A class used to categorise transactions.
 */
export interface Class {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  Name?: null | string;
  SubClass?: null | boolean;
  ParentRef?: ReferenceType;
  FullyQualifiedName?: null | string;
  Active?: null | boolean;
  [k: string]: unknown;
}
/**
 * The company itself: one record per realm.
 */
export interface CompanyInfo {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  CompanyName?: null | string;
  LegalName?: null | string;
  CompanyAddr?: PhysicalAddress;
  CustomerCommunicationAddr?: PhysicalAddress;
  LegalAddr?: PhysicalAddress;
  CustomerCommunicationEmailAddr?: EmailAddress;
  PrimaryPhone?: TelephoneNumber;
  Email?: EmailAddress;
  WebAddr?: WebSiteAddress;
  CompanyStartDate?: null | string;
  FiscalYearStartMonth?: null | string;
  Country?: null | string;
  SupportedLanguages?: null | string;
  DefaultTimeZone?: null | string;
  EmployerId?: null | string;
  NameValue?:
    | null
    | (null | {
        Name?: null | string;
        Value?: null | string;
        [k: string]: unknown;
      })[];
  [k: string]: unknown;
}
/**
 * A refund or credit issued to a customer.
 */
export interface CreditMemo {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  DocNumber?: null | string;
  TxnDate?: null | string;
  PrivateNote?: null | string;
  CurrencyRef?: ReferenceType;
  ExchangeRate?: null | number;
  Line?: Lines;
  TxnTaxDetail?: TxnTaxDetail;
  LinkedTxn?: LinkedTxns;
  CustomField?: CustomFields;
  DepartmentRef?: ReferenceType;
  TotalAmt?: null | number;
  HomeTotalAmt?: null | number;
  GlobalTaxCalculation?: null | string;
  TransactionLocationType?: null | string;
  TxnSource?: null | string;
  CustomerRef?: ReferenceType;
  CustomerMemo?: MemoRef;
  BillAddr?: PhysicalAddress;
  ShipAddr?: PhysicalAddress;
  ShipFromAddr?: PhysicalAddress;
  FreeFormAddress?: null | boolean;
  BillEmail?: EmailAddress;
  BillEmailCc?: EmailAddress;
  BillEmailBcc?: EmailAddress;
  SalesTermRef?: ReferenceType;
  DueDate?: null | string;
  ShipDate?: null | string;
  ShipMethodRef?: ReferenceType;
  TrackingNum?: null | string;
  ClassRef?: ReferenceType;
  ApplyTaxAfterDiscount?: null | boolean;
  PrintStatus?: null | string;
  EmailStatus?: null | string;
  Balance?: null | number;
  HomeBalance?: null | number;
  DepositToAccountRef?: ReferenceType;
  ProjectRef?: ReferenceType;
  RecurDataRef?: ReferenceType;
  TaxExemptionRef?: ReferenceType;
  DeliveryInfo?: null | {
    [k: string]: unknown;
  };
  RemainingCredit?: null | number;
  PaymentMethodRef?: ReferenceType;
  [k: string]: unknown;
}
/**
 * A customer, sub-customer or job (FullyQualifiedName Parent:Child).
 */
export interface Customer {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  Title?: null | string;
  GivenName?: null | string;
  MiddleName?: null | string;
  FamilyName?: null | string;
  Suffix?: null | string;
  DisplayName?: null | string;
  PrintOnCheckName?: null | string;
  CompanyName?: null | string;
  Active?: null | boolean;
  PrimaryPhone?: TelephoneNumber;
  AlternatePhone?: TelephoneNumber;
  Mobile?: TelephoneNumber;
  Fax?: TelephoneNumber;
  PrimaryEmailAddr?: EmailAddress;
  WebAddr?: WebSiteAddress;
  FullyQualifiedName?: null | string;
  Notes?: null | string;
  Taxable?: null | boolean;
  BillAddr?: PhysicalAddress;
  ShipAddr?: PhysicalAddress;
  OtherContactInfo?: null | {
    [k: string]: unknown;
  };
  Job?: null | boolean;
  BillWithParent?: null | boolean;
  ParentRef?: ReferenceType;
  Level?: null | number;
  SalesTermRef?: ReferenceType;
  PaymentMethodRef?: ReferenceType;
  DefaultTaxCodeRef?: ReferenceType;
  CustomerTypeRef?: ReferenceType;
  ARAccountRef?: ReferenceType;
  Balance?: null | number;
  BalanceWithJobs?: null | number;
  OpenBalanceDate?: null | string;
  CurrencyRef?: ReferenceType;
  PreferredDeliveryMethod?: null | string;
  ResaleNum?: null | string;
  PrimaryTaxIdentifier?: null | string;
  SecondaryTaxIdentifier?: null | string;
  BusinessNumber?: null | string;
  GSTIN?: null | string;
  GSTRegistrationType?: null | string;
  IsProject?: null | boolean;
  TaxExemptionReasonId?: null | string;
  ClientEntityId?: null | string;
  Source?: null | string;
  V4IDPseudonym?: null | string;
  [k: string]: unknown;
}
/**
 * A department (location) used to categorise transactions.
 */
export interface Department {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  Name?: null | string;
  SubDepartment?: null | boolean;
  ParentRef?: ReferenceType;
  FullyQualifiedName?: null | string;
  Active?: null | boolean;
  [k: string]: unknown;
}
/**
 * A bank deposit.
 */
export interface Deposit {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  DocNumber?: null | string;
  TxnDate?: null | string;
  PrivateNote?: null | string;
  CurrencyRef?: ReferenceType;
  ExchangeRate?: null | number;
  Line?: Lines;
  TxnTaxDetail?: TxnTaxDetail;
  LinkedTxn?: LinkedTxns;
  CustomField?: CustomFields;
  DepartmentRef?: ReferenceType;
  TotalAmt?: null | number;
  HomeTotalAmt?: null | number;
  GlobalTaxCalculation?: null | string;
  TransactionLocationType?: null | string;
  TxnSource?: null | string;
  DepositToAccountRef?: ReferenceType;
  CashBack?: null | {
    AccountRef?: ReferenceType;
    Amount?: null | number;
    Memo?: null | string;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}
/**
 * An employee.
 */
export interface Employee {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  Title?: null | string;
  GivenName?: null | string;
  MiddleName?: null | string;
  FamilyName?: null | string;
  Suffix?: null | string;
  DisplayName?: null | string;
  PrintOnCheckName?: null | string;
  CompanyName?: null | string;
  Active?: null | boolean;
  PrimaryPhone?: TelephoneNumber;
  AlternatePhone?: TelephoneNumber;
  Mobile?: TelephoneNumber;
  Fax?: TelephoneNumber;
  PrimaryEmailAddr?: EmailAddress;
  WebAddr?: WebSiteAddress;
  PrimaryAddr?: PhysicalAddress;
  EmployeeNumber?: null | string;
  SSN?: null | string;
  BillableTime?: null | boolean;
  BillRate?: null | number;
  CostRate?: null | number;
  BirthDate?: null | string;
  Gender?: null | string;
  HiredDate?: null | string;
  ReleasedDate?: null | string;
  Organization?: null | boolean;
  V4IDPseudonym?: null | string;
  [k: string]: unknown;
}
/**
 * A quote for a customer.
 */
export interface Estimate {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  DocNumber?: null | string;
  TxnDate?: null | string;
  PrivateNote?: null | string;
  CurrencyRef?: ReferenceType;
  ExchangeRate?: null | number;
  Line?: Lines;
  TxnTaxDetail?: TxnTaxDetail;
  LinkedTxn?: LinkedTxns;
  CustomField?: CustomFields;
  DepartmentRef?: ReferenceType;
  TotalAmt?: null | number;
  HomeTotalAmt?: null | number;
  GlobalTaxCalculation?: null | string;
  TransactionLocationType?: null | string;
  TxnSource?: null | string;
  CustomerRef?: ReferenceType;
  CustomerMemo?: MemoRef;
  BillAddr?: PhysicalAddress;
  ShipAddr?: PhysicalAddress;
  ShipFromAddr?: PhysicalAddress;
  FreeFormAddress?: null | boolean;
  BillEmail?: EmailAddress;
  BillEmailCc?: EmailAddress;
  BillEmailBcc?: EmailAddress;
  SalesTermRef?: ReferenceType;
  DueDate?: null | string;
  ShipDate?: null | string;
  ShipMethodRef?: ReferenceType;
  TrackingNum?: null | string;
  ClassRef?: ReferenceType;
  ApplyTaxAfterDiscount?: null | boolean;
  PrintStatus?: null | string;
  EmailStatus?: null | string;
  Balance?: null | number;
  HomeBalance?: null | number;
  DepositToAccountRef?: ReferenceType;
  ProjectRef?: ReferenceType;
  RecurDataRef?: ReferenceType;
  TaxExemptionRef?: ReferenceType;
  DeliveryInfo?: null | {
    [k: string]: unknown;
  };
  TxnStatus?: null | string;
  ExpirationDate?: null | string;
  AcceptedBy?: null | string;
  AcceptedDate?: null | string;
  [k: string]: unknown;
}
/**
 * An invoice (sales transaction with a balance due). Balance 0 means paid.
 */
export interface Invoice {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  DocNumber?: null | string;
  TxnDate?: null | string;
  PrivateNote?: null | string;
  CurrencyRef?: ReferenceType;
  ExchangeRate?: null | number;
  Line?: Lines;
  TxnTaxDetail?: TxnTaxDetail;
  LinkedTxn?: LinkedTxns;
  CustomField?: CustomFields;
  DepartmentRef?: ReferenceType;
  TotalAmt?: null | number;
  HomeTotalAmt?: null | number;
  GlobalTaxCalculation?: null | string;
  TransactionLocationType?: null | string;
  TxnSource?: null | string;
  CustomerRef?: ReferenceType;
  CustomerMemo?: MemoRef;
  BillAddr?: PhysicalAddress;
  ShipAddr?: PhysicalAddress;
  ShipFromAddr?: PhysicalAddress;
  FreeFormAddress?: null | boolean;
  BillEmail?: EmailAddress;
  BillEmailCc?: EmailAddress;
  BillEmailBcc?: EmailAddress;
  SalesTermRef?: ReferenceType;
  DueDate?: null | string;
  ShipDate?: null | string;
  ShipMethodRef?: ReferenceType;
  TrackingNum?: null | string;
  ClassRef?: ReferenceType;
  ApplyTaxAfterDiscount?: null | boolean;
  PrintStatus?: null | string;
  EmailStatus?: null | string;
  Balance?: null | number;
  HomeBalance?: null | number;
  DepositToAccountRef?: ReferenceType;
  ProjectRef?: ReferenceType;
  RecurDataRef?: ReferenceType;
  TaxExemptionRef?: ReferenceType;
  DeliveryInfo?: null | {
    [k: string]: unknown;
  };
  AllowIPNPayment?: null | boolean;
  AllowOnlinePayment?: null | boolean;
  AllowOnlineCreditCardPayment?: null | boolean;
  AllowOnlineACHPayment?: null | boolean;
  Deposit?: null | number;
  InvoiceLink?: null | string;
  PaymentMethodRef?: ReferenceType;
  [k: string]: unknown;
}
/**
 * A product or service sold or bought (Type Service, Inventory, NonInventory, Group or Category).
 */
export interface Item {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  Name?: null | string;
  Sku?: null | string;
  Description?: null | string;
  Active?: null | boolean;
  SubItem?: null | boolean;
  ParentRef?: ReferenceType;
  Level?: null | number;
  FullyQualifiedName?: null | string;
  Type?: null | string;
  Taxable?: null | boolean;
  SalesTaxIncluded?: null | boolean;
  UnitPrice?: null | number;
  RatePercent?: null | number;
  IncomeAccountRef?: ReferenceType;
  PurchaseDesc?: null | string;
  PurchaseTaxIncluded?: null | boolean;
  PurchaseCost?: null | number;
  ExpenseAccountRef?: ReferenceType;
  AssetAccountRef?: ReferenceType;
  PrefVendorRef?: ReferenceType;
  TrackQtyOnHand?: null | boolean;
  QtyOnHand?: null | number;
  QtyOnPurchaseOrder?: null | number;
  QtyOnSalesOrder?: null | number;
  ReorderPoint?: null | number;
  InvStartDate?: null | string;
  SalesTaxCodeRef?: ReferenceType;
  PurchaseTaxCodeRef?: ReferenceType;
  ClassRef?: ReferenceType;
  TaxClassificationRef?: ReferenceType;
  ItemCategoryType?: null | string;
  AbatementRate?: null | number;
  ReverseChargeRate?: null | number;
  ServiceType?: null | string;
  Source?: null | string;
  [k: string]: unknown;
}
/**
 * A journal entry; each line has a JournalEntryLineDetail with PostingType Debit or Credit.
 */
export interface JournalEntry {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  DocNumber?: null | string;
  TxnDate?: null | string;
  PrivateNote?: null | string;
  CurrencyRef?: ReferenceType;
  ExchangeRate?: null | number;
  Line?: Lines;
  TxnTaxDetail?: TxnTaxDetail;
  LinkedTxn?: LinkedTxns;
  CustomField?: CustomFields;
  DepartmentRef?: ReferenceType;
  TotalAmt?: null | number;
  HomeTotalAmt?: null | number;
  GlobalTaxCalculation?: null | string;
  TransactionLocationType?: null | string;
  TxnSource?: null | string;
  Adjustment?: null | boolean;
  TaxRateRef?: ReferenceType;
  [k: string]: unknown;
}
/**
 * A payment method (cash, check, card).
 */
export interface PaymentMethod {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  Name?: null | string;
  Active?: null | boolean;
  Type?: null | string;
  [k: string]: unknown;
}
/**
 * A customer payment, applied to invoices through Line[].LinkedTxn.
 */
export interface Payment {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  DocNumber?: null | string;
  TxnDate?: null | string;
  PrivateNote?: null | string;
  CurrencyRef?: ReferenceType;
  ExchangeRate?: null | number;
  Line?: Lines;
  LinkedTxn?: LinkedTxns;
  CustomerRef?: ReferenceType;
  ARAccountRef?: ReferenceType;
  DepositToAccountRef?: ReferenceType;
  PaymentMethodRef?: ReferenceType;
  PaymentRefNum?: null | string;
  TotalAmt?: null | number;
  UnappliedAmt?: null | number;
  ProcessPayment?: null | boolean;
  CreditCardPayment?: null | {
    [k: string]: unknown;
  };
  TransactionLocationType?: null | string;
  TxnSource?: null | string;
  ProjectRef?: ReferenceType;
  [k: string]: unknown;
}
/**
 * A purchase order sent to a vendor.
 */
export interface PurchaseOrder {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  DocNumber?: null | string;
  TxnDate?: null | string;
  PrivateNote?: null | string;
  CurrencyRef?: ReferenceType;
  ExchangeRate?: null | number;
  Line?: Lines;
  TxnTaxDetail?: TxnTaxDetail;
  LinkedTxn?: LinkedTxns;
  CustomField?: CustomFields;
  DepartmentRef?: ReferenceType;
  TotalAmt?: null | number;
  HomeTotalAmt?: null | number;
  GlobalTaxCalculation?: null | string;
  TransactionLocationType?: null | string;
  TxnSource?: null | string;
  VendorRef?: ReferenceType;
  VendorAddr?: PhysicalAddress;
  ShipAddr?: PhysicalAddress;
  ShipMethodRef?: ReferenceType;
  APAccountRef?: ReferenceType;
  POStatus?: null | string;
  POEmail?: EmailAddress;
  Memo?: null | string;
  ClassRef?: ReferenceType;
  SalesTermRef?: ReferenceType;
  DueDate?: null | string;
  EmailStatus?: null | string;
  PrintStatus?: null | string;
  [k: string]: unknown;
}
/**
 * An expense: cash, check or credit-card purchase (Credit true for a card refund).
 */
export interface Purchase {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  DocNumber?: null | string;
  TxnDate?: null | string;
  PrivateNote?: null | string;
  CurrencyRef?: ReferenceType;
  ExchangeRate?: null | number;
  Line?: Lines;
  TxnTaxDetail?: TxnTaxDetail;
  LinkedTxn?: LinkedTxns;
  CustomField?: CustomFields;
  DepartmentRef?: ReferenceType;
  TotalAmt?: null | number;
  HomeTotalAmt?: null | number;
  GlobalTaxCalculation?: null | string;
  TransactionLocationType?: null | string;
  TxnSource?: null | string;
  AccountRef?: ReferenceType;
  PaymentType?: null | string;
  EntityRef?: ReferenceType;
  Credit?: null | boolean;
  PaymentMethodRef?: ReferenceType;
  PrintStatus?: null | string;
  RemitToAddr?: PhysicalAddress;
  PurchaseEx?: OpaqueExtension;
  IncludeInAnnualTPAR?: null | boolean;
  [k: string]: unknown;
}
/**
 * A refund paid to a customer.
 */
export interface RefundReceipt {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  DocNumber?: null | string;
  TxnDate?: null | string;
  PrivateNote?: null | string;
  CurrencyRef?: ReferenceType;
  ExchangeRate?: null | number;
  Line?: Lines;
  TxnTaxDetail?: TxnTaxDetail;
  LinkedTxn?: LinkedTxns;
  CustomField?: CustomFields;
  DepartmentRef?: ReferenceType;
  TotalAmt?: null | number;
  HomeTotalAmt?: null | number;
  GlobalTaxCalculation?: null | string;
  TransactionLocationType?: null | string;
  TxnSource?: null | string;
  CustomerRef?: ReferenceType;
  CustomerMemo?: MemoRef;
  BillAddr?: PhysicalAddress;
  ShipAddr?: PhysicalAddress;
  ShipFromAddr?: PhysicalAddress;
  FreeFormAddress?: null | boolean;
  BillEmail?: EmailAddress;
  BillEmailCc?: EmailAddress;
  BillEmailBcc?: EmailAddress;
  SalesTermRef?: ReferenceType;
  DueDate?: null | string;
  ShipDate?: null | string;
  ShipMethodRef?: ReferenceType;
  TrackingNum?: null | string;
  ClassRef?: ReferenceType;
  ApplyTaxAfterDiscount?: null | boolean;
  PrintStatus?: null | string;
  EmailStatus?: null | string;
  Balance?: null | number;
  HomeBalance?: null | number;
  DepositToAccountRef?: ReferenceType;
  ProjectRef?: ReferenceType;
  RecurDataRef?: ReferenceType;
  TaxExemptionRef?: ReferenceType;
  DeliveryInfo?: null | {
    [k: string]: unknown;
  };
  PaymentMethodRef?: ReferenceType;
  PaymentRefNum?: null | string;
  CheckPayment?: null | {
    [k: string]: unknown;
  };
  [k: string]: unknown;
}
/**
 * A sale paid at the time of sale.
 */
export interface SalesReceipt {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  DocNumber?: null | string;
  TxnDate?: null | string;
  PrivateNote?: null | string;
  CurrencyRef?: ReferenceType;
  ExchangeRate?: null | number;
  Line?: Lines;
  TxnTaxDetail?: TxnTaxDetail;
  LinkedTxn?: LinkedTxns;
  CustomField?: CustomFields;
  DepartmentRef?: ReferenceType;
  TotalAmt?: null | number;
  HomeTotalAmt?: null | number;
  GlobalTaxCalculation?: null | string;
  TransactionLocationType?: null | string;
  TxnSource?: null | string;
  CustomerRef?: ReferenceType;
  CustomerMemo?: MemoRef;
  BillAddr?: PhysicalAddress;
  ShipAddr?: PhysicalAddress;
  ShipFromAddr?: PhysicalAddress;
  FreeFormAddress?: null | boolean;
  BillEmail?: EmailAddress;
  BillEmailCc?: EmailAddress;
  BillEmailBcc?: EmailAddress;
  SalesTermRef?: ReferenceType;
  DueDate?: null | string;
  ShipDate?: null | string;
  ShipMethodRef?: ReferenceType;
  TrackingNum?: null | string;
  ClassRef?: ReferenceType;
  ApplyTaxAfterDiscount?: null | boolean;
  PrintStatus?: null | string;
  EmailStatus?: null | string;
  Balance?: null | number;
  HomeBalance?: null | number;
  DepositToAccountRef?: ReferenceType;
  ProjectRef?: ReferenceType;
  RecurDataRef?: ReferenceType;
  TaxExemptionRef?: ReferenceType;
  DeliveryInfo?: null | {
    [k: string]: unknown;
  };
  PaymentMethodRef?: ReferenceType;
  PaymentRefNum?: null | string;
  CreditCardPayment?: null | {
    [k: string]: unknown;
  };
  [k: string]: unknown;
}
/**
 * A tax agency to which collected taxes are paid.
 */
export interface TaxAgency {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  DisplayName?: null | string;
  TaxTrackedOnSales?: null | boolean;
  TaxTrackedOnPurchases?: null | boolean;
  TaxRegistrationNumber?: null | string;
  ReportingPeriod?: null | string;
  LastFileDate?: null | string;
  TaxAgencyConfig?: null | string;
  [k: string]: unknown;
}
/**
 * A sales tax code and the rates it applies.
 */
export interface TaxCode {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  Name?: null | string;
  Description?: null | string;
  Active?: null | boolean;
  Hidden?: null | boolean;
  Taxable?: null | boolean;
  TaxGroup?: null | boolean;
  SalesTaxRateList?: TaxRateList;
  PurchaseTaxRateList?: TaxRateList;
  [k: string]: unknown;
}
/**
 * A tax rate charged on behalf of a tax agency.
 */
export interface TaxRate {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  Name?: null | string;
  Description?: null | string;
  Active?: null | boolean;
  RateValue?: null | number;
  AgencyRef?: ReferenceType;
  TaxReturnLineRef?: ReferenceType;
  SpecialTaxType?: null | string;
  DisplayType?: null | string;
  EffectiveTaxRate?:
    | null
    | (null | {
        RateValue?: null | number;
        EffectiveDate?: null | string;
        EndDate?: null | string;
        [k: string]: unknown;
      })[];
  OriginalTaxRate?: null | string;
  [k: string]: unknown;
}
/**
 * Payment terms (Type STANDARD or DATE_DRIVEN).
 */
export interface Term {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  Name?: null | string;
  Active?: null | boolean;
  Type?: null | string;
  DueDays?: null | number;
  DiscountDays?: null | number;
  DiscountPercent?: null | number;
  DayOfMonthDue?: null | number;
  DueNextMonthDays?: null | number;
  DiscountDayOfMonth?: null | number;
  [k: string]: unknown;
}
/**
 * Time worked by an employee or vendor.
 */
export interface TimeActivity {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  TxnDate?: null | string;
  NameOf?: null | string;
  EmployeeRef?: ReferenceType;
  VendorRef?: ReferenceType;
  CustomerRef?: ReferenceType;
  ProjectRef?: ReferenceType;
  ItemRef?: ReferenceType;
  ClassRef?: ReferenceType;
  DepartmentRef?: ReferenceType;
  PayrollItemRef?: ReferenceType;
  BillableStatus?: null | string;
  Taxable?: null | boolean;
  HourlyRate?: null | number;
  CostRate?: null | number;
  Hours?: null | number;
  Minutes?: null | number;
  Seconds?: null | number;
  BreakHours?: null | number;
  BreakMinutes?: null | number;
  BreakSeconds?: null | number;
  StartTime?: null | string;
  EndTime?: null | string;
  Description?: null | string;
  TransactionLocationType?: null | string;
  [k: string]: unknown;
}
/**
 * A transfer between two accounts.
 */
export interface Transfer {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  TxnDate?: null | string;
  PrivateNote?: null | string;
  CurrencyRef?: ReferenceType;
  ExchangeRate?: null | number;
  FromAccountRef?: ReferenceType;
  ToAccountRef?: ReferenceType;
  Amount?: null | number;
  TransactionLocationType?: null | string;
  TxnSource?: null | string;
  [k: string]: unknown;
}
/**
 * A credit received from a vendor.
 */
export interface VendorCredit {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  DocNumber?: null | string;
  TxnDate?: null | string;
  PrivateNote?: null | string;
  CurrencyRef?: ReferenceType;
  ExchangeRate?: null | number;
  Line?: Lines;
  TxnTaxDetail?: TxnTaxDetail;
  LinkedTxn?: LinkedTxns;
  CustomField?: CustomFields;
  DepartmentRef?: ReferenceType;
  TotalAmt?: null | number;
  HomeTotalAmt?: null | number;
  GlobalTaxCalculation?: null | string;
  TransactionLocationType?: null | string;
  TxnSource?: null | string;
  VendorRef?: ReferenceType;
  APAccountRef?: ReferenceType;
  Balance?: null | number;
  IncludeInAnnualTPAR?: null | boolean;
  [k: string]: unknown;
}
/**
 * A vendor (supplier).
 */
export interface Vendor {
  /**
   * QBO identifier (key); always a string.
   */
  Id: string;
  SyncToken?: null | string;
  domain?: null | string;
  sparse?: null | boolean;
  MetaData?: ModificationMetaData;
  Title?: null | string;
  GivenName?: null | string;
  MiddleName?: null | string;
  FamilyName?: null | string;
  Suffix?: null | string;
  DisplayName?: null | string;
  PrintOnCheckName?: null | string;
  CompanyName?: null | string;
  Active?: null | boolean;
  PrimaryPhone?: TelephoneNumber;
  AlternatePhone?: TelephoneNumber;
  Mobile?: TelephoneNumber;
  Fax?: TelephoneNumber;
  PrimaryEmailAddr?: EmailAddress;
  WebAddr?: WebSiteAddress;
  BillAddr?: PhysicalAddress;
  OtherContactInfo?: null | {
    [k: string]: unknown;
  };
  TaxIdentifier?: null | string;
  AcctNum?: null | string;
  Vendor1099?: null | boolean;
  Balance?: null | number;
  BillRate?: null | number;
  CostRate?: null | number;
  CurrencyRef?: ReferenceType;
  TermRef?: ReferenceType;
  APAccountRef?: ReferenceType;
  GSTIN?: null | string;
  GSTRegistrationType?: null | string;
  BusinessNumber?: null | string;
  T4AEligible?: null | boolean;
  T5018Eligible?: null | boolean;
  HasTPAR?: null | boolean;
  TaxReportingBasis?: null | string;
  Source?: null | string;
  V4IDPseudonym?: null | string;
  [k: string]: unknown;
}
/**
 * Evidence: one record per stream, extract window and tap run, emitted after the window's records and before its STATE.
 */
export interface VolumetryRecord {
  /**
   * <run_id>/<stream>/<window_start_utc> (key).
   */
  id: string;
  run_id?: null | string;
  stream?: null | string;
  window_start_utc?: null | string;
  window_end_utc?: null | string;
  /**
   * QBO's COUNT(*) for the window, taken before paging.
   */
  qbo_count?: null | number;
  /**
   * Distinct records emitted for the window.
   */
  extracted?: null | number;
  pages?: null | number;
  requests?: null | number;
  retries?: null | number;
  duration_ms?: null | number;
  /**
   * True when QBO's count was 0 and the window was not queried.
   */
  empty?: null | boolean;
  /**
   * Times the window was read again because the count disagreed.
   */
  rereads?: null | number;
  extracted_at?: null | string;
  [k: string]: unknown;
}
