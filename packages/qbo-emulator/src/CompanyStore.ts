import { ENTITIES, entityByName, entityByStream, type EntityInfo } from 'qbo-catalog';
import { EntityTable } from './EntityTable.js';
import { ACTIVE, LOADED, generateIndex, type IndexArrays } from './generateIndex.js';
import { obj, str } from './jsonText.js';
import { loadRecordsDir, type LoadedRecord } from './loadRecords.js';
import { formatPacific } from './pacificTime.js';

/** Small defaults so a first run is quick and still has every entity; override per stream. */
const DEFAULT_COUNTS: Readonly<Record<string, number>> = Object.freeze({
  invoices: 250,
  customers: 60,
  items: 30,
  accounts: 25,
  vendors: 20,
  employees: 10,
  payments: 120,
  bills: 60,
  company_info: 1,
  tax_agencies: 2,
  tax_codes: 4,
  tax_rates: 4,
  terms: 4,
  payment_methods: 5,
  classes: 6,
  departments: 4,
});
const OTHER_DEFAULT = 30;

export interface CompanyOptions {
  readonly seed: number;
  /** The company's "now" in epoch seconds; data LastUpdatedTimes lie in [now - days, now). */
  readonly nowSec: number;
  readonly days: number;
  /** Per stream (`invoices`) or entity (`Invoice`) name. */
  readonly counts?: Partial<Record<string, number>>;
  readonly fixturesDir?: string;
}

/** One row of the ground truth: a record as served. */
export interface TruthRow {
  readonly id: string;
  readonly lastUpdated: string;
  readonly text: string;
}

/** CDC output for one entity: full records and `Deleted` stubs in time order. */
export interface CdcEntityResult {
  readonly entity: string;
  readonly texts: readonly string[];
  readonly total: number;
}

export const CDC_MAX_OBJECTS = 1000;

function countFor(info: EntityInfo, counts: Partial<Record<string, number>>): number {
  const given = counts[info.stream] ?? counts[info.entity];
  if (given !== undefined) {
    if (!Number.isInteger(given) || given < 0) throw new RangeError(`count for ${info.stream} must be a whole number >= 0, got ${given}`);
    return given;
  }
  return DEFAULT_COUNTS[info.stream] ?? OTHER_DEFAULT;
}

function unknownCountKeys(counts: Partial<Record<string, number>>): string[] {
  return Object.keys(counts).filter((k) => !entityByStream(k) && !entityByName(k));
}

/** Generated rows plus loaded ones, in (LastUpdatedTime, Id) order. */
function withLoaded(generated: IndexArrays, loaded: readonly LoadedRecord[]): IndexArrays {
  if (loaded.length === 0) return generated;
  const n = generated.ids.length;
  const rows = Array.from({ length: n + loaded.length }, (_, k) => k);
  const at = (k: number) =>
    k < n
      ? {
          id: generated.ids[k] as number,
          c: generated.created[k] as number,
          u: generated.updated[k] as number,
          s: generated.syncTokens[k] as number,
          f: generated.flags[k] as number,
        }
      : ((r: LoadedRecord) => ({ id: r.id, c: r.createdSec, u: r.updatedSec, s: r.syncToken, f: LOADED | (r.active ? ACTIVE : 0) }))(
          loaded[k - n] as LoadedRecord,
        );
  const all = rows.map(at).sort((a, b) => a.u - b.u || a.id - b.id);
  return {
    ids: Uint32Array.from(all, (r) => r.id),
    created: Uint32Array.from(all, (r) => r.c),
    updated: Uint32Array.from(all, (r) => r.u),
    syncTokens: Uint16Array.from(all, (r) => r.s),
    flags: Uint8Array.from(all, (r) => r.f),
  };
}

/**
 * The company: one EntityTable per entity, generated from the seed (plus any loaded records),
 * and the mutations tests use (touch, delete) with the reads the API serves (query tables,
 * CDC, ground truth).
 */
export class CompanyStore {
  readonly #tables = new Map<string, EntityTable>();

  constructor(options: CompanyOptions) {
    const counts = options.counts ?? {};
    const unknown = unknownCountKeys(counts);
    if (unknown.length > 0) throw new RangeError(`unknown stream in counts: ${unknown.join(', ')}`);
    const loaded = options.fixturesDir ? loadRecordsDir(options.fixturesDir) : new Map<string, LoadedRecord[]>();
    const fromSec = options.nowSec - Math.round(options.days * 86400);
    // References draw ids in 1..maxId of the target entity, so they point at records that exist.
    const maxIds = new Map<string, number>();
    for (const info of ENTITIES) {
      const records = loaded.get(info.stream) ?? [];
      const firstId = records.reduce((max, r) => Math.max(max, r.id), 0) + 1;
      const count = countFor(info, counts);
      maxIds.set(info.entity, firstId - 1 + count);
      const arrays = generateIndex({ seed: options.seed, entity: info.entity, count, fromSec, toSec: options.nowSec, firstId, nameList: info.nameList });
      const texts = new Map(records.map((r) => [r.id, r.text]));
      const countOf = (entity: string) => maxIds.get(entity) ?? 1;
      this.#tables.set(info.entity.toLowerCase(), new EntityTable(info, withLoaded(arrays, records), texts, options.seed, countOf));
    }
  }

  /** By entity name, case-insensitively, as QBO reads `FROM`. */
  table(entity: string): EntityTable | undefined {
    return this.#tables.get(entity.toLowerCase());
  }

  tableByStream(stream: string): EntityTable {
    const info = entityByStream(stream) ?? entityByName(stream);
    const table = info && this.table(info.entity);
    if (!table) throw new RangeError(`unknown stream or entity: ${stream}`);
    return table;
  }

  #position(entity: string, id: string): { table: EntityTable; i: number } {
    const table = this.tableByStream(entity);
    const i = table.indexOfId(Number(id));
    if (i < 0) throw new RangeError(`${table.info.entity} ${id} does not exist`);
    return { table, i };
  }

  /** Bumps a record's LastUpdatedTime to `sec` and its SyncToken. */
  touch(entity: string, id: string, sec: number): void {
    const { table, i } = this.#position(entity, id);
    table.touch(i, sec);
  }

  /** Edits a record at `sec`: `members` (raw JSON texts) replace or extend its top-level members. */
  edit(entity: string, id: string, sec: number, members: Readonly<Record<string, string>>): void {
    const { table, i } = this.#position(entity, id);
    table.edit(i, sec, members);
  }

  /** Creates a record at `sec`; returns its Id. */
  create(entity: string, sec: number): string {
    return String(this.tableByStream(entity).create(sec));
  }

  /** Transactions are hard-deleted (a CDC stub remains); name-list records are deactivated, as QBO does. */
  delete(entity: string, id: string, sec: number): void {
    const { table, i } = this.#position(entity, id);
    if (table.info.nameList) table.touch(i, sec, true);
    else table.delete(i, sec);
  }

  /** One record's text as served now. */
  truthRow(entity: string, id: string): string {
    const { table, i } = this.#position(entity, id);
    return table.textAt(i);
  }

  *truth(stream: string): Generator<TruthRow> {
    const table = this.tableByStream(stream);
    for (let i = 0; i < table.size; i++) {
      yield { id: String(table.idAt(i)), lastUpdated: formatPacific(table.updatedAt(i)), text: table.textAt(i) };
    }
  }

  /**
   * Everything changed at or after `sinceSec`, per entity in the order asked: full records
   * (inactive ones too) and stubs for deleted transactions; at most `maxObjects` in all.
   */
  cdc(entities: readonly EntityInfo[], sinceSec: number, maxObjects: number): CdcEntityResult[] {
    let budget = maxObjects;
    return entities.map((info) => {
      const table = this.table(info.entity) as EntityTable;
      const changed: Array<{ sec: number; text: () => string }> = [];
      for (let i = table.lowerBound(sinceSec); i < table.size; i++) changed.push({ sec: table.updatedAt(i), text: () => table.textAt(i) });
      for (const d of table.deleted) {
        if (d.deletedSec < sinceSec) continue;
        const stub = obj([
          ['domain', str('QBO')],
          ['status', str('Deleted')],
          ['Id', str(String(d.id))],
          ['MetaData', obj([['LastUpdatedTime', str(formatPacific(d.deletedSec))]])],
        ]);
        changed.push({ sec: d.deletedSec, text: () => stub });
      }
      changed.sort((a, b) => a.sec - b.sec);
      const served = changed.slice(0, budget).map((c) => c.text());
      budget -= served.length;
      return { entity: info.entity, texts: served, total: changed.length };
    });
  }
}
