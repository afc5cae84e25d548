// The users list and create operations, from parsed parameters to the JSON body, over whatever runs a
// statement (the gateway's pool registry, or the bench's plain baseline): one definition of pagination,
// totals and cursors for both.
import type { Row } from 'postgres';
import type { StatementBuilder } from '../db/statement.js';
import { encodeCursor } from './cursor.js';
import type { ListParams } from './list-params.js';
import { countUsersStatement, createUserStatement, listUsersStatement, TOTAL_COUNT_CAP, type TenantScope } from './queries.js';
import { pageBody, userBody, type PageTotal } from './response.js';

export type RunStatement = (build: StatementBuilder) => Promise<Row[]>;

export async function listUsersPage(run: RunStatement, scope: TenantScope, params: ListParams): Promise<string> {
  const rows = await run(listUsersStatement(scope, params));
  const more = rows.length > params.pageSize;
  const records = more ? rows.slice(0, params.pageSize) : rows;
  let counted: unknown = rows[0]?.total;
  if (rows.length === 0 && params.count !== 'none') {
    // Only a page with no rows lacks the total: past the end, or an empty result. Page 1 of nothing
    // needs no second round trip.
    const firstPage = params.cursor === undefined && params.page === 1;
    counted = firstPage ? 0 : (await run(countUsersStatement(scope, params)))[0]?.total;
  }
  const last = records[records.length - 1];
  const nextCursor =
    more && last !== undefined
      ? encodeCursor({
          column: params.sortColumn,
          direction: params.sortDirection,
          value: last[params.sortColumn] as string | boolean,
          id: last.id as string,
        })
      : null;
  return pageBody(records, params, pageTotal(params, counted), nextCursor);
}

export async function createUserBody(
  run: RunStatement,
  scope: TenantScope,
  input: { firstName: string; lastName: string },
): Promise<string> {
  const [row] = await run(createUserStatement(scope, input));
  return userBody(row as Row);
}

function pageTotal(params: ListParams, counted: unknown): PageTotal {
  if (params.count === 'none' || counted === null || counted === undefined) return { total: null, exact: false };
  const total = Number(counted);
  if (params.count === 'exact' || total <= TOTAL_COUNT_CAP) return { total, exact: true };
  return { total: TOTAL_COUNT_CAP, exact: false };
}
