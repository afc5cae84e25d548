// The users statements a tenant runs. Each is one round trip that returns the finished JSON body as
// text (column `body`), so the gateway neither parses rows nor re-serialises them. No tenant filter:
// the session's role and the RLS policy confine every statement to the tenant's rows. Each statement
// is a builder (src/db/statement.ts) so that dedicated pools bind parameters and the shared pool
// inlines escaped literals from the very same definition.
import { quoteIdentifier } from '../db/quote.js';
import type { SqlWriter, StatementBuilder } from '../db/statement.js';
import { SORTABLE_COLUMNS, type SortableColumn } from './columns.js';
import type { ListParams } from './list-params.js';

// Every identifier that can reach SQL, quoted once at start-up from the whitelist.
const QUOTED = Object.fromEntries(SORTABLE_COLUMNS.map((c) => [c, quoteIdentifier(c)])) as Record<SortableColumn, string>;

/**
 * One page and the total in a single scan: `count(*) OVER ()` counts the matching rows before LIMIT.
 * Columns: `body` (the response) and `shown` (rows on the page). A page past the end has no rows to
 * carry the count, so `shown = 0` on a page after the first means: ask countUsersStatement. Measured
 * against a page subquery plus a separate count subquery, this shape plans ~30% faster, which matters
 * on the shared pool, where PostgreSQL plans every message.
 */
export function listUsersStatement(params: ListParams): StatementBuilder {
  const direction = params.sortDirection === 'asc' ? 'ASC' : 'DESC';
  // id breaks ties so pages never overlap or skip rows with equal sort keys.
  const order = (prefix: string): string =>
    `${prefix}${QUOTED[params.sortColumn]} ${direction}, ${prefix}"id" ${direction}`;
  return (w) => {
    w.sql(
      `SELECT json_build_object('records', coalesce(json_agg(user_json(p.u) ORDER BY ${order('(p.u).')}), '[]'::json), 'page', `,
    );
    w.value(params.page, 'int4');
    w.sql(`, 'page_size', `);
    w.value(params.pageSize, 'int4');
    w.sql(`, 'total', coalesce(max(p.total), 0), 'total_pages', ceil(coalesce(max(p.total), 0)::numeric / `);
    w.value(params.pageSize, 'int4');
    w.sql(')::bigint)::text AS body, count(p.u) AS shown FROM (SELECT users AS u, count(*) OVER () AS total FROM users');
    whereClause(w, params);
    w.sql(` ORDER BY ${order('')} LIMIT `);
    w.value(params.pageSize, 'int4');
    w.sql(' OFFSET ');
    w.value((params.page - 1) * params.pageSize, 'int4');
    w.sql(') p');
  };
}

/** The number of users matching the list filters (column `total`): for pages past the end. */
export function countUsersStatement(params: ListParams): StatementBuilder {
  return (w) => {
    w.sql('SELECT count(*) AS total FROM users');
    whereClause(w, params);
  };
}

/** The response for a page past the last one, which has no rows to carry the total. */
export function emptyPageBody(params: ListParams, total: number): string {
  return JSON.stringify({
    records: [],
    page: params.page,
    page_size: params.pageSize,
    total,
    total_pages: Math.ceil(total / params.pageSize),
  });
}

export function createUserStatement(input: { firstName: string; lastName: string }): StatementBuilder {
  return (w) => {
    w.sql('INSERT INTO users (first_name, last_name) VALUES (');
    w.value(input.firstName, 'text');
    w.sql(', ');
    w.value(input.lastName, 'text');
    w.sql(') RETURNING user_json(users)::text AS body');
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
