// The users statements a tenant runs, each one round trip returning plain rows (the JSON is written
// by src/users/response.ts). No tenant filter:
// the session's role and the RLS policy confine every statement to the tenant's rows. Each statement
// is a builder (src/db/statement.ts) so that dedicated pools bind parameters and the shared pool
// inlines escaped literals from the very same definition.
import { quoteIdentifier } from '../db/quote.js';
import type { SqlWriter, StatementBuilder } from '../db/statement.js';
import { SORTABLE_COLUMNS, type SortableColumn } from './columns.js';
import type { ListParams } from './list-params.js';

// Every identifier that can reach SQL, quoted once at start-up from the whitelist.
const QUOTED = Object.fromEntries(SORTABLE_COLUMNS.map((c) => [c, quoteIdentifier(c)])) as Record<SortableColumn, string>;

// Timestamps as text: a JS Date would drop the microseconds (src/users/response.ts formats them).
const USER_COLUMNS = 'id, first_name, last_name, confirmed, created_at::text AS created_at, updated_at::text AS updated_at';

/**
 * One page of users with the total in a single scan: `count(*) OVER ()` counts the matching rows
 * before LIMIT, in every row (`total`). A page past the end has no rows to carry it: on a page after
 * the first, no rows means ask countUsersStatement.
 */
export function listUsersStatement(params: ListParams): StatementBuilder {
  const direction = params.sortDirection === 'asc' ? 'ASC' : 'DESC';
  // id breaks ties so pages never overlap or skip rows with equal sort keys.
  const order = `${QUOTED[params.sortColumn]} ${direction}, "id" ${direction}`;
  return (w) => {
    w.sql(`SELECT ${USER_COLUMNS}, count(*) OVER () AS total FROM users`);
    whereClause(w, params);
    w.sql(` ORDER BY ${order} LIMIT `);
    w.value(params.pageSize, 'int4');
    w.sql(' OFFSET ');
    w.value((params.page - 1) * params.pageSize, 'int4');
  };
}

/** The number of users matching the list filters (column `total`): for pages past the end. */
export function countUsersStatement(params: ListParams): StatementBuilder {
  return (w) => {
    w.sql('SELECT count(*) AS total FROM users');
    whereClause(w, params);
  };
}

export function createUserStatement(input: { firstName: string; lastName: string }): StatementBuilder {
  return (w) => {
    w.sql('INSERT INTO users (first_name, last_name) VALUES (');
    w.value(input.firstName, 'text');
    w.sql(', ');
    w.value(input.lastName, 'text');
    w.sql(`) RETURNING ${USER_COLUMNS}`);
  };
}

function whereClause(w: SqlWriter, params: ListParams): void {
  let joiner = ' WHERE ';
  const next = (): void => {
    w.sql(joiner);
    joiner = ' AND ';
  };
  if (params.search) {
    next();
    w.sql('(');
    params.search.columns.forEach((column, i) => {
      w.sql(`${i > 0 ? ' OR ' : ''}${QUOTED[column]} ILIKE `);
      w.value(params.search?.pattern ?? '', 'text');
    });
    w.sql(')');
  }
  if (params.dateAfter !== undefined) {
    next();
    w.sql(`${QUOTED[params.dateColumn]} >= `);
    w.value(params.dateAfter, 'timestamptz');
  }
  if (params.dateBefore !== undefined) {
    next();
    w.sql(`${QUOTED[params.dateColumn]} <= `);
    w.value(params.dateBefore, 'timestamptz');
  }
  for (const filter of params.filters) {
    next();
    w.sql(`${QUOTED[filter.column]} = `);
    w.value(filter.value, filter.column === 'confirmed' ? 'bool' : filter.column === 'id' ? 'uuid' : 'text');
  }
}
