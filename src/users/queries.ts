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

export function listUsersStatement(params: ListParams): StatementBuilder {
  const direction = params.sortDirection === 'asc' ? 'ASC' : 'DESC';
  // id breaks ties so pages never overlap or skip rows with equal sort keys.
  const order = `${QUOTED[params.sortColumn]} ${direction}, "id" ${direction}`;
  return (w) => {
    w.sql(`SELECT json_build_object('records', coalesce((SELECT json_agg(user_json(p) ORDER BY ${order}) FROM (SELECT * FROM users`);
    whereClause(w, params);
    w.sql(` ORDER BY ${order} LIMIT `);
    w.value(params.pageSize, 'int4');
    w.sql(' OFFSET ');
    w.value((params.page - 1) * params.pageSize, 'int4');
    w.sql(`) p), '[]'::json), 'page', `);
    w.value(params.page, 'int4');
    w.sql(`, 'page_size', `);
    w.value(params.pageSize, 'int4');
    w.sql(`, 'total', t.total, 'total_pages', ceil(t.total::numeric / `);
    w.value(params.pageSize, 'int4');
    w.sql(')::bigint)::text AS body FROM (SELECT count(*) AS total FROM users');
    whereClause(w, params);
    w.sql(') t');
  };
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
