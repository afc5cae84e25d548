// The users list and create operations, from parsed parameters to the JSON body, over whatever runs a
// statement (the gateway's pool registry, or the bench's plain baseline): one definition of pagination,
// totals and cursors for both.
import type { Row } from 'postgres';
import type { StatementBuilder } from '../db/statement.js';
import { Unavailable } from '../errors.js';
import { encodeCursor } from './cursor.js';
import type { ListParams } from './list-params.js';
import { countUsersStatement, createUserStatement, listUsersStatement, TOTAL_COUNT_CAP, type TenantScope } from './queries.js';
import { pageBody, userBody, type PageTotal } from './response.js';

export type RunStatement = (build: StatementBuilder) => Promise<Row[]>;

/**
 * The statement's rows, without holes. postgres.js (3.4) counts the rows of a result in a per-connection
 * counter that only a CommandComplete resets: when a session dies after sending some rows of a result
 * (a backend terminated mid-page), the count survives into the next session, and if the reconnect also
 * skipped its type fetch (it does when it rejects the first query with the old session's error), the
 * next result's rows land after that many empty slots: `[ , , , row]`. The rows present are the
 * statement's own, in order; only their indexes are wrong. Compacting restores the result, so a page
 * never carries `null` records and an INSERT ... RETURNING still has its row.
 */
export async function rowsOf(run: RunStatement, build: StatementBuilder): Promise<Row[]> {
  const rows = await run(build);
  for (let i = 0; i < rows.length; i++) {
    // `in`, not `=== undefined`: a hole, never a real row (a row is always an object).
    if (!(i in rows)) return rows.filter(() => true);
  }
  return rows;
}

export async function listUsersPage(run: RunStatement, scope: TenantScope, params: ListParams): Promise<string> {
  const rows = await rowsOf(run, listUsersStatement(scope, params));
  const more = rows.length > params.pageSize;
  const records = more ? rows.slice(0, params.pageSize) : rows;
  let counted: unknown = rows[0]?.total;
  if (rows.length === 0 && params.count !== 'none') {
    // Only a page with no rows lacks the total: past the end, or an empty result. Page 1 of nothing
    // needs no second round trip.
    const firstPage = params.cursor === undefined && params.page === 1;
    counted = firstPage ? 0 : (await rowsOf(run, countUsersStatement(scope, params)))[0]?.total;
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

export async function createUserBody(run: RunStatement, scope: TenantScope, input: { firstName: string; lastName: string }): Promise<string> {
  const [row] = await rowsOf(run, createUserStatement(scope, input));
  // INSERT ... RETURNING that succeeded returns its row; if the driver ever resolves it without one, the
  // write may have committed but the gateway cannot show it: the same answer as a connection lost after
  // the commit (README, Known limitations), never a TypeError and a 500.
  if (row === undefined) {
    throw new Unavailable(
      'write_unconfirmed',
      'the database accepted the write but did not return the user; it may have been created: list the users before retrying',
      1,
    );
  }
  return userBody(row);
}

function pageTotal(params: ListParams, counted: unknown): PageTotal {
  if (params.count === 'none' || counted === null || counted === undefined) return { total: null, exact: false };
  const total = Number(counted);
  if (params.count === 'exact' || total <= TOTAL_COUNT_CAP) return { total, exact: true };
  return { total: TOTAL_COUNT_CAP, exact: false };
}
