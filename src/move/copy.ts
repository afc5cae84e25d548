// The snapshot copy: the tenant's rows as of one REPEATABLE READ snapshot of the source, read in key
// order a page at a time and inserted on the target, each page in its own short target transaction while
// the next page is read. Writes after the snapshot reach the target through the change log (catch-up).
//
// Rows travel as one JSON document per page, never as JavaScript values: timestamps keep their
// microseconds (a Date has milliseconds), and json_populate_recordset rebuilds exactly the row type the
// target's table has. Inserted by the owner with no tenant scope, rows keep their timestamps (the users
// triggers set them only for a tenant's own inserts).
import type { Sql, TransactionSql } from 'postgres';
import type { MovingTenant } from './parties.js';
import { scopeToMovingTenant } from './scope.js';
import type { MovedTable } from './tables.js';

export interface Page {
  readonly rows: string;
  readonly count: number;
  readonly last: string | null;
}

/** Inserts a page of rows (a JSON array of whole rows) into the target's table. */
export async function insertRows(tx: TransactionSql, table: MovedTable, rows: string): Promise<void> {
  const name = tx.unsafe(table.qualified);
  await tx`INSERT INTO ${name} SELECT * FROM json_populate_recordset(NULL::${name}, ${rows}::text::json)`;
}

async function readPage(tx: TransactionSql, tenantId: string, table: MovedTable, after: string | null, limit: number): Promise<Page> {
  const key = tx(table.key);
  const type = tx.unsafe(table.keyType);
  const from = after === null ? tx`` : tx`AND ${key} > ${after}::${type}`;
  const [page] = await tx<{ rows: string | null; count: number; last: string | null }[]>`
    WITH page AS (
      SELECT * FROM ${tx.unsafe(table.qualified)} WHERE tenant_id = ${tenantId} ${from} ORDER BY ${key} LIMIT ${limit}
    )
    SELECT json_agg(page)::text AS rows, count(*)::int AS count,
           (SELECT ${key}::text FROM page ORDER BY ${key} DESC LIMIT 1) AS last
    FROM page`;
  return { rows: page?.rows ?? '[]', count: page?.count ?? 0, last: page?.last ?? null };
}

/** Copies every row of the tenant's tables; returns how many. */
export async function copySnapshot(source: Sql, target: Sql, tenant: MovingTenant, tables: readonly MovedTable[], pageRows: number): Promise<number> {
  let copied = 0;
  await source.begin('isolation level repeatable read read only', async (tx) => {
    await scopeToMovingTenant(tx, tenant.id);
    for (const table of tables) {
      let after: string | null = null;
      // The target writes page n while the source reads page n + 1. Marked handled at once, so a failed
      // write is not reported as unhandled before it is awaited (it still rejects the await).
      let writing: Promise<void> = Promise.resolve();
      for (;;) {
        const page = await readPage(tx, tenant.id, table, after, pageRows);
        await writing;
        if (page.count === 0) break;
        writing = target.begin(async (ttx) => {
          await scopeToMovingTenant(ttx, tenant.id);
          await insertRows(ttx, table, page.rows);
        });
        writing.catch(() => undefined);
        copied += page.count;
        after = page.last;
        if (page.count < pageRows) break;
      }
      await writing;
    }
  });
  return copied;
}
