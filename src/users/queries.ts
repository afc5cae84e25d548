// The users statements a tenant runs, each one round trip returning plain rows (the JSON is written by
// src/users/response.ts). Every statement names its tenant itself (`tenant_id = $n`): PostgreSQL's RLS
// policy confines it as well (by the tenant's role on a dedicated pool, by the session's scope on the
// shared one), and the two must agree or there are no rows. Reads also call public.tenantgate_check_scope($n),
// which turns a disagreement into an error instead of an empty page. The explicit filter is also what
// routes a statement to one shard on Citus, where RLS quals prune nothing.
//
// Statements are builders (src/db/statement.ts) rendered with bind parameters and prepared; identifiers
// come only from the column whitelist, and tables through w.table (qualified, per isolation model).
import { quoteIdentifier } from '../db/quote.js';
import type { SqlWriter, StatementBuilder } from '../db/statement.js';
import { SORTABLE_COLUMNS, type SortableColumn } from './columns.js';
import type { ListParams } from './list-params.js';

/** Whose rows a statement reads or writes. */
export interface TenantScope {
  readonly tenantId: string;
  /**
   * Add the fail-closed scope check (the gateway always does). Only the bench's plain baseline, which
   * has no tenant scope at all, leaves it out.
   */
  readonly checkContext: boolean;
}

/** `total` is exact up to this many rows; beyond, it says "at least" (total_exact: false). */
export const TOTAL_COUNT_CAP = 1_000;

// Every identifier that can reach SQL, quoted once at start-up from the whitelist.
const QUOTED = Object.fromEntries(SORTABLE_COLUMNS.map((c) => [c, quoteIdentifier(c)])) as Record<SortableColumn, string>;

// Timestamps arrive as text (connection option timestampsAsText): a JS Date would drop the microseconds.
export const USER_COLUMNS = 'id, first_name, last_name, confirmed, created_at, updated_at';

const SORT_VALUE_TYPE = {
  id: 'uuid',
  first_name: 'text',
  last_name: 'text',
  confirmed: 'bool',
  created_at: 'timestamptz',
  updated_at: 'timestamptz',
} as const;

/**
 * One page of users, pageSize + 1 rows (the extra one only says that a next page exists), each with
 * the page's `total` (null with count=none). The total is a scalar subquery run once, not a window over
 * every matching row: a capped count reads at most TOTAL_COUNT_CAP + 1 index entries however big the
 * tenant. A page with no rows carries no total: then ask countUsersStatement.
 */
export function listUsersStatement(scope: TenantScope, params: ListParams): StatementBuilder {
  const direction = params.sortDirection === 'asc' ? 'ASC' : 'DESC';
  // id breaks ties so pages never overlap or skip rows with equal sort keys. Qualified: a bare name in
  // ORDER BY means the output column, and created_at is output as text (sorting text uses no index).
  const order = params.sortColumn === 'id' ? `users."id" ${direction}` : `users.${QUOTED[params.sortColumn]} ${direction}, users."id" ${direction}`;
  return (w) => {
    w.sql(`SELECT ${USER_COLUMNS}, `);
    totalExpression(w, scope, params);
    w.sql(' AS total FROM ');
    w.table('users');
    tenantWhere(w, scope, true);
    filters(w, params);
    keyset(w, params);
    w.sql(` ORDER BY ${order} LIMIT `);
    w.value(params.pageSize + 1, 'int4');
    if (params.cursor === undefined && params.page > 1) {
      w.sql(' OFFSET ');
      w.value((params.page - 1) * params.pageSize, 'int4');
    }
  };
}

/** The page's total alone (column `total`, null with count=none): for a page with no rows. */
export function countUsersStatement(scope: TenantScope, params: ListParams): StatementBuilder {
  return (w) => {
    w.sql('SELECT ');
    totalExpression(w, scope, params);
    w.sql(' AS total');
    if (scope.checkContext) {
      w.sql(' WHERE public.tenantgate_check_scope(');
      w.value(scope.tenantId, 'uuid');
      w.sql(')');
    }
  };
}

/** The tenant column is given explicitly (Citus routes on it); the trigger checks it against the scope. */
export function createUserStatement(scope: TenantScope, input: { firstName: string; lastName: string }): StatementBuilder {
  return (w) => {
    w.sql('INSERT INTO ');
    w.table('users');
    w.sql(' (tenant_id, first_name, last_name) VALUES (');
    w.value(scope.tenantId, 'uuid');
    w.sql(', ');
    w.value(input.firstName, 'text');
    w.sql(', ');
    w.value(input.lastName, 'text');
    w.sql(`) RETURNING ${USER_COLUMNS}`);
  };
}

function totalExpression(w: SqlWriter, scope: TenantScope, params: ListParams): void {
  if (params.count === 'none') {
    w.sql('NULL::int8');
    return;
  }
  w.sql(params.count === 'exact' ? '(SELECT count(*) FROM ' : '(SELECT count(*) FROM (SELECT 1 FROM ');
  w.table('users');
  tenantWhere(w, scope, false);
  filters(w, params);
  w.sql(params.count === 'exact' ? ')' : ` LIMIT ${TOTAL_COUNT_CAP + 1}) AS capped)`);
}

function tenantWhere(w: SqlWriter, scope: TenantScope, check: boolean): void {
  w.sql(' WHERE tenant_id = ');
  w.value(scope.tenantId, 'uuid');
  if (check && scope.checkContext) {
    w.sql(' AND public.tenantgate_check_scope(');
    w.value(scope.tenantId, 'uuid');
    w.sql(')');
  }
}

function filters(w: SqlWriter, params: ListParams): void {
  if (params.search) {
    w.sql(' AND (');
    params.search.columns.forEach((column, i) => {
      w.sql(`${i > 0 ? ' OR ' : ''}${QUOTED[column]} ILIKE `);
      w.value(params.search?.pattern ?? '', 'text');
    });
    w.sql(')');
  }
  if (params.dateAfter !== undefined) {
    w.sql(` AND ${QUOTED[params.dateColumn]} >= `);
    w.value(params.dateAfter, 'timestamptz');
  }
  if (params.dateBefore !== undefined) {
    w.sql(` AND ${QUOTED[params.dateColumn]} <= `);
    w.value(params.dateBefore, 'timestamptz');
  }
  for (const filter of params.filters) {
    w.sql(` AND ${QUOTED[filter.column]} = `);
    w.value(filter.value, filter.column === 'confirmed' ? 'bool' : filter.column === 'id' ? 'uuid' : 'text');
  }
}

/** After the cursor's row in the page order: a row comparison the (tenant_id, column, id) index seeks to. */
function keyset(w: SqlWriter, params: ListParams): void {
  const cursor = params.cursor;
  if (cursor === undefined) return;
  const after = cursor.direction === 'asc' ? '>' : '<';
  if (cursor.column === 'id') {
    w.sql(` AND "id" ${after} `);
    w.value(cursor.id, 'uuid');
    return;
  }
  w.sql(` AND (${QUOTED[cursor.column]}, "id") ${after} (`);
  w.value(cursor.value, SORT_VALUE_TYPE[cursor.column]);
  w.sql(', ');
  w.value(cursor.id, 'uuid');
  w.sql(')');
}
