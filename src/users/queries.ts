// The users queries a tenant runs on its own pool. Each is one round trip that returns the finished JSON
// body as text, so the gateway neither parses rows nor re-serialises them. No tenant filter here: the
// connection's role and the RLS policy confine every statement to the tenant's rows.
import type { PendingQuery, Row, Sql } from 'postgres';
import type { ListParams } from './list-params.js';

export async function listUsers(sql: Sql, params: ListParams): Promise<string> {
  const where = whereClause(sql, params);
  const direction = params.sortDirection === 'asc' ? sql`ASC` : sql`DESC`;
  // id breaks ties so pages never overlap or skip rows with equal sort keys.
  const order = sql`${sql(params.sortColumn)} ${direction}, id ${direction}`;
  const offset = (params.page - 1) * params.pageSize;
  const [row] = await sql<{ body: string }[]>`
    SELECT json_build_object(
      'records', coalesce(
        (SELECT json_agg(user_json(p) ORDER BY ${order})
         FROM (SELECT * FROM users ${where} ORDER BY ${order} LIMIT ${params.pageSize} OFFSET ${offset}) p),
        '[]'::json),
      'page', ${params.page}::int,
      'page_size', ${params.pageSize}::int,
      'total', t.total,
      'total_pages', ceil(t.total::numeric / ${params.pageSize}::int)::bigint
    )::text AS body
    FROM (SELECT count(*) AS total FROM users ${where}) t`;
  return (row as { body: string }).body;
}

export async function createUser(sql: Sql, input: { firstName: string; lastName: string }): Promise<string> {
  const [row] = await sql<{ body: string }[]>`
    INSERT INTO users (first_name, last_name) VALUES (${input.firstName}, ${input.lastName})
    RETURNING user_json(users)::text AS body`;
  return (row as { body: string }).body;
}

// Dates go in as text and are cast by PostgreSQL: a timestamptz-typed parameter would be serialised
// through a JS Date by the driver and lose its microseconds, breaking the inclusive bounds.
function whereClause(sql: Sql, params: ListParams): PendingQuery<Row[]> {
  const conditions: PendingQuery<Row[]>[] = [];
  if (params.search) {
    const pattern = params.search.pattern;
    const any = params.search.columns.map((column) => sql`${sql(column)} ILIKE ${pattern}`);
    conditions.push(sql`(${joined(sql, any, sql` OR `)})`);
  }
  if (params.dateAfter !== undefined) {
    conditions.push(sql`${sql(params.dateColumn)} >= ${params.dateAfter}::text::timestamptz`);
  }
  if (params.dateBefore !== undefined) {
    conditions.push(sql`${sql(params.dateColumn)} <= ${params.dateBefore}::text::timestamptz`);
  }
  for (const filter of params.filters) {
    conditions.push(sql`${sql(filter.column)} = ${filter.value}`);
  }
  return conditions.length === 0 ? sql`` : sql`WHERE ${joined(sql, conditions, sql` AND `)}`;
}

function joined(sql: Sql, parts: PendingQuery<Row[]>[], separator: PendingQuery<Row[]>): PendingQuery<Row[]> {
  return parts.reduce((acc, part, i) => (i === 0 ? part : sql`${acc}${separator}${part}`));
}
