// The tables a move carries, and how a row is named within its tenant: the primary key is
// (tenant_id, <key>) on every tenant table (sql/001, sql/011, sql/tenant/), and the capture trigger
// logs <key> (sql/014). Qualified names come from the isolation model (src/db/tenant-tables.ts), so a
// table name never comes from a caller.
import type { TenantTable } from '../db/tenant-tables.js';
import type { IsolationModel } from '../isolation/model.js';
import type { Placement } from '../tenants/placement.js';

export interface MovedTable {
  readonly name: TenantTable;
  /** The table as statements name it: `public.users` or `"s_<hex>".users`. */
  readonly qualified: string;
  readonly key: string;
  /** The key's SQL type, for casting keys that travel as text. */
  readonly keyType: 'uuid' | 'text';
}

const KEYS: Readonly<Record<TenantTable, Pick<MovedTable, 'key' | 'keyType'>>> = {
  users: { key: 'id', keyType: 'uuid' },
  idempotency_keys: { key: 'key', keyType: 'text' },
};

export function movedTables(model: IsolationModel, placement: Placement): readonly MovedTable[] {
  const tables = model.tables(placement);
  return (Object.keys(KEYS) as TenantTable[]).map((name) => ({ name, qualified: tables[name], ...KEYS[name] }));
}
