import type { Window } from '../plan/planWindows.js';

export interface QueryTarget {
  /** QBO entity name, as in FROM. */
  readonly entity: string;
  /** Name-list entities hide inactive rows unless asked for both. */
  readonly nameList: boolean;
}

export interface Page {
  /** 1-based page number within the window. */
  readonly number: number;
  readonly size: number;
}

function whereClause(target: QueryTarget, window: Window | undefined): string {
  const conditions: string[] = [];
  if (window) {
    conditions.push(`MetaData.LastUpdatedTime >= '${window.start}'`, `MetaData.LastUpdatedTime < '${window.end}'`);
  }
  if (target.nameList) conditions.push('Active IN (true,false)');
  return conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`;
}

/** COUNT(*) for a window (or the whole entity when `window` is undefined: full-table entities). */
export function buildCountQuery(target: QueryTarget, window: Window | undefined): string {
  return `SELECT COUNT(*) FROM ${target.entity}${whereClause(target, window)}`;
}

/** One page of a window, ordered by LastUpdatedTime (DESIGN §3). */
export function buildPageQuery(target: QueryTarget, window: Window | undefined, page: Page): string {
  const order = window ? ' ORDERBY MetaData.LastUpdatedTime' : '';
  return `SELECT * FROM ${target.entity}${whereClause(target, window)}${order} STARTPOSITION ${1 + (page.number - 1) * page.size} MAXRESULTS ${page.size}`;
}

/** Every record of the entity (inactive name-list rows too), one page, in a stable order: what `reconcile` compares with a table. */
export function buildListQuery(target: QueryTarget, page: Page): string {
  return `SELECT * FROM ${target.entity}${whereClause(target, undefined)} ORDERBY MetaData.LastUpdatedTime STARTPOSITION ${1 + (page.number - 1) * page.size} MAXRESULTS ${page.size}`;
}

/** A QBO string literal: quoted, a quote escaped with a backslash (and the backslash itself). */
const literal = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The records with these Ids that QBO still has (`Id` allows `=` and `IN` only); at most 1000 Ids. */
export function buildIdsQuery(target: QueryTarget, ids: readonly string[]): string {
  if (ids.length === 0 || ids.length > 1000) throw new RangeError(`buildIdsQuery takes 1 to 1000 Ids, got ${ids.length}`);
  const active = target.nameList ? ' AND Active IN (true,false)' : '';
  return `SELECT * FROM ${target.entity} WHERE Id IN (${ids.map(literal).join(',')})${active} MAXRESULTS ${ids.length}`;
}
