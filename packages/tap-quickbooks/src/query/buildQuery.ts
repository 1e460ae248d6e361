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
