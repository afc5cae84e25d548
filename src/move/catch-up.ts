// Catch-up: applies the writes the capture triggers logged on the source (sql/014) to the target. Each
// batch consumes logged keys in the source transaction that deletes them, re-reads those rows' current
// state in the same statement, replaces them on the target (delete, then insert the current row if there
// is one: an update by the owner would reset updated_at), and commits the source only after the target.
// So a batch lost halfway is applied again by the next one, and applying a key twice is harmless.
// Keys are matched with = ANY (ARRAY(...)): one primary-key lookup each. Written as IN (subquery), the
// planner could not tell a handful of keys from thousands and chose to scan the tenant's every row
// (a second per round for a tenant of a million rows, inside the pause).
import type { Sql } from 'postgres';
import { insertRows } from './copy.js';
import type { MovingTenant } from './parties.js';
import { scopeToMovingTenant } from './scope.js';
import type { MovedTable } from './tables.js';

interface Consumed {
  readonly changes: number;
  readonly keys: string | null;
  readonly rows: string | null;
}

/** Applies up to `limit` logged changes of one table; returns how many it consumed. */
async function applyBatch(source: Sql, target: Sql, tenant: MovingTenant, table: MovedTable, limit: number): Promise<number> {
  const name = source.unsafe(table.qualified);
  const key = source(table.key);
  const type = source.unsafe(table.keyType);
  return source.begin(async (tx) => {
    await scopeToMovingTenant(tx, tenant.id);
    const [batch] = await tx<Consumed[]>`
      WITH consumed AS (
        DELETE FROM tenantgate_move_changes
        WHERE seq IN (SELECT seq FROM tenantgate_move_changes
                      WHERE tenant_id = ${tenant.id} AND table_name = ${table.name} ORDER BY seq LIMIT ${limit})
        RETURNING key
      ), keys AS (
        SELECT DISTINCT key #>> '{}' AS k FROM consumed
      )
      SELECT (SELECT count(*) FROM consumed)::int AS changes,
             (SELECT json_agg(k) FROM keys)::text AS keys,
             (SELECT json_agg(t)::text FROM ${name} t
              WHERE t.tenant_id = ${tenant.id} AND t.${key} = ANY (ARRAY(SELECT k::${type} FROM keys))) AS rows`;
    if (!batch || batch.changes === 0 || batch.keys === null) return 0;
    const { keys, rows } = batch;
    await target.begin(async (ttx) => {
      await scopeToMovingTenant(ttx, tenant.id);
      await ttx`
        DELETE FROM ${name} WHERE tenant_id = ${tenant.id}
          AND ${key} = ANY (ARRAY(SELECT json_array_elements_text(${keys}::text::json)::${type}))`;
      if (rows !== null) await insertRows(ttx, table, rows);
    });
    return batch.changes;
  });
}

/** One round: every change logged when it starts (and any logged meanwhile), in batches; returns how many. */
export async function catchUpRound(source: Sql, target: Sql, tenant: MovingTenant, tables: readonly MovedTable[], batch: number): Promise<number> {
  let applied = 0;
  for (const table of tables) {
    for (;;) {
      const n = await applyBatch(source, target, tenant, table, batch);
      applied += n;
      if (n < batch) break;
    }
  }
  return applied;
}

/** Changes logged and not yet applied. */
export async function pendingChanges(source: Sql, tenantId: string): Promise<number> {
  const [row] = await source<{ n: number }[]>`SELECT count(*)::int AS n FROM tenantgate_move_changes WHERE tenant_id = ${tenantId}`;
  return row?.n ?? 0;
}
