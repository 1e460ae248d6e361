import type { EntityTable } from './EntityTable.js';
import { parseQboDateTime } from './pacificTime.js';
import type { Condition, Literal, ParsedQuery } from './queryLanguage.js';
import { queryableProperties } from './queryableProperties.js';

/** A query that parses but names something QBO does not have: 400, code 4001. */
export class QueryValidationError extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = 'QueryValidationError';
  }
}

export type QueryOutcome =
  | { readonly kind: 'count'; readonly totalCount: number }
  /** Table positions of the page's rows, in order; valid until the table changes. */
  | { readonly kind: 'page'; readonly positions: readonly number[] };

const LAST_UPDATED = 'metadata.lastupdatedtime';
const CREATED = 'metadata.createtime';

type Value = string | number | boolean | undefined;
type Row = (path: string) => Value;

/** Checks every property the query names; QBO matches names case-insensitively. */
function validate(table: EntityTable, query: ParsedQuery): void {
  const known = queryableProperties(table.info);
  const properties = [...query.where.map((c) => c.property), ...(query.orderBy ? [query.orderBy.property] : [])];
  for (const property of properties) {
    const [first, ...rest] = property.toLowerCase().split('.');
    const ok = first === 'metadata' ? rest.length === 1 && (rest[0] === 'createtime' || rest[0] === 'lastupdatedtime') : known.has(first as string);
    if (!ok) throw new QueryValidationError(`QueryValidationError: Property ${property} not found for Entity ${table.info.entity}`);
  }
}

/** A property's comparable value in a parsed record: refs compare by `value`, times as instants. */
function valueAt(record: unknown, path: string): Value {
  let node: unknown = record;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    const key = Object.keys(node).find((k) => k.toLowerCase() === part);
    node = key === undefined ? undefined : (node as Record<string, unknown>)[key];
  }
  if (node !== null && typeof node === 'object' && 'value' in node) node = node.value;
  return typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean' ? node : undefined;
}

function literalFor(path: string, literal: Literal): Value {
  if (literal.kind === 'boolean') return literal.value;
  if (path === LAST_UPDATED || path === CREATED) {
    const ms = parseQboDateTime(literal.value);
    if (ms === undefined) throw new QueryValidationError(`QueryValidationError: Invalid date/time value '${literal.value}' for property ${path}`);
    return ms;
  }
  return literal.value;
}

function compare(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const na = Number(a);
  const nb = Number(b);
  if (a !== '' && b !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return String(a).localeCompare(String(b));
}

function likeRegExp(pattern: string): RegExp {
  const body = pattern
    .split('%')
    .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 'is');
}

function predicate(condition: Condition): (row: Row) => boolean {
  const path = condition.property.toLowerCase();
  const values = condition.values.map((v) => literalFor(path, v));
  const first = values[0];
  switch (condition.op) {
    case '=':
      return (row) => compare(row(path), first) === 0;
    case '<':
      return (row) => row(path) !== undefined && compare(row(path), first) < 0;
    case '>':
      return (row) => row(path) !== undefined && compare(row(path), first) > 0;
    case '<=':
      return (row) => row(path) !== undefined && compare(row(path), first) <= 0;
    case '>=':
      return (row) => row(path) !== undefined && compare(row(path), first) >= 0;
    case 'IN':
      return (row) => values.some((v) => compare(row(path), v) === 0);
    case 'LIKE': {
      const re = likeRegExp(String(first));
      return (row) => re.test(String(row(path) ?? ''));
    }
  }
}

const RANGE_OPS = new Set(['>=', '>', '<', '<=', '=']);
const coveredByRange = (c: Condition) => c.property.toLowerCase() === LAST_UPDATED && RANGE_OPS.has(c.op);

/**
 * Positions [lo, hi) that can match the query's LastUpdatedTime bounds (binary search on the
 * index), and that are visible: stamped at or before `newestVisibleSec` when given.
 */
function timeRange(table: EntityTable, where: readonly Condition[], newestVisibleSec: number | undefined): [number, number] {
  let lo = 0;
  let hi = newestVisibleSec === undefined ? table.size : table.lowerBound(newestVisibleSec + 1);
  for (const c of where) {
    if (!coveredByRange(c)) continue;
    const ms = literalFor(LAST_UPDATED, c.values[0] as Literal) as number;
    if (c.op === '>=' || c.op === '=') lo = Math.max(lo, table.lowerBound(Math.ceil(ms / 1000)));
    if (c.op === '>') lo = Math.max(lo, table.lowerBound(Math.floor(ms / 1000) + 1));
    if (c.op === '<') hi = Math.min(hi, table.lowerBound(Math.ceil(ms / 1000)));
    if (c.op === '<=' || c.op === '=') hi = Math.min(hi, table.lowerBound(Math.floor(ms / 1000) + 1));
  }
  return [lo, Math.max(lo, hi)];
}

/**
 * Runs a parsed query on one entity's table. Conditions on the index (LastUpdatedTime,
 * CreateTime, Id, Active) cost no rendering; others render and parse the candidate rows
 * (only while walking, never stored),
 * which is fine for small companies. Name-list entities answer only active rows unless the
 * query filters on Active itself, as QBO does. With `newestVisibleSec`, rows stamped after it are
 * not shown yet (the emulator's visibility delay).
 */
export function runQuery(table: EntityTable, query: ParsedQuery, newestVisibleSec?: number): QueryOutcome {
  validate(table, query);
  const where = [...query.where];
  // Bounds on LastUpdatedTime are applied exactly by the binary search in timeRange.
  const predicates = where.filter((c) => !coveredByRange(c)).map(predicate);
  const activeOnly = table.info.nameList && !where.some((c) => c.property.toLowerCase() === 'active');
  // One accessor for the row being looked at; a record is rendered and parsed only if a condition needs it.
  let current = -1;
  let parsed: unknown;
  let parsedFor = -1;
  const row: Row = (path) => {
    if (path === LAST_UPDATED) return table.updatedAt(current) * 1000;
    if (path === CREATED) return table.createdAt(current) * 1000;
    if (path === 'id') return table.idAt(current);
    if (path === 'active') return table.isActive(current);
    if (parsedFor !== current) {
      parsed = JSON.parse(table.textAt(current));
      parsedFor = current;
    }
    return valueAt(parsed, path);
  };
  const matches = (i: number) => {
    current = i;
    return (!activeOnly || table.isActive(i)) && predicates.every((p) => p(row));
  };

  const [lo, hi] = timeRange(table, where, newestVisibleSec);
  const order = query.orderBy?.property.toLowerCase() ?? LAST_UPDATED;
  const descending = query.orderBy?.descending ?? false;
  const skip = query.startPosition - 1;

  if (predicates.length === 0 && !activeOnly && (query.count || order === LAST_UPDATED)) {
    // Every match is in [lo, hi): a page is a slice, a count a subtraction.
    if (query.count) return { kind: 'count', totalCount: hi - lo };
    const n = Math.max(0, Math.min(query.maxResults, hi - lo - skip));
    return { kind: 'page', positions: Array.from({ length: n }, (_, k) => (descending ? hi - 1 - skip - k : lo + skip + k)) };
  }
  if (query.count || order === LAST_UPDATED) {
    // Index order is (LastUpdatedTime, Id): walk it, counting matches, and keep one page.
    const positions: number[] = [];
    let seen = 0;
    const visit = (i: number) => {
      if (!matches(i)) return;
      if (!query.count && seen >= skip && positions.length < query.maxResults) positions.push(i);
      seen++;
    };
    if (descending) for (let i = hi - 1; i >= lo; i--) visit(i);
    else for (let i = lo; i < hi; i++) visit(i);
    return query.count ? { kind: 'count', totalCount: seen } : { kind: 'page', positions };
  }
  const all: Array<{ i: number; key: Value }> = [];
  for (let i = lo; i < hi; i++) if (matches(i)) all.push({ i, key: row(order) });
  all.sort((a, b) => (descending ? -1 : 1) * compare(a.key, b.key) || a.i - b.i);
  return { kind: 'page', positions: all.slice(skip, skip + query.maxResults).map((r) => r.i) };
}
