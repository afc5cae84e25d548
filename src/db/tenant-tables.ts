// Where a tenant's tables are, as statements name them: every tenant statement names its tables through
// these qualified names (src/db/statement.ts, SqlWriter.table), never by an unqualified name resolved
// through a search_path. The row model's tables are public's; a schema tenant's are its own schema's.
//
// Qualified text is what keeps a schema tenant's plans: PostgreSQL re-plans every cached statement of a
// session whose search_path changed since it was planned, so serving schema tenants by switching the
// path re-planned every request (bench/README.md, plans/req 1.0). With the tables named in the text,
// the path never changes, and each tenant's statements are prepared once per connection.
import { quoteIdentifier } from './quote.js';

/** The tables a tenant statement may name: a whitelist. */
export const TENANT_TABLES = ['users', 'idempotency_keys'] as const;
export type TenantTable = (typeof TENANT_TABLES)[number];
export type TenantTables = Readonly<Record<TenantTable, string>>;

/** The row model's shared tables. */
export const SHARED_TABLES: TenantTables = { users: 'public.users', idempotency_keys: 'public.idempotency_keys' };

const SCHEMA_NAME = /^s_[0-9a-f]{32}$/;

/** A tenant schema's tables: the schema's quoted name, then the whitelisted table name. */
export function schemaTables(schema: string): TenantTables {
  if (!SCHEMA_NAME.test(schema)) throw new RangeError('not a tenant schema name');
  const quoted = quoteIdentifier(schema);
  return { users: `${quoted}.users`, idempotency_keys: `${quoted}.idempotency_keys` };
}

const DATABASE_NAME = /^d_[0-9a-f]{32}$/;

/** A database tenant's schema inside its database (d_<hex> holds s_<hex>): statements are the schema model's. */
export function databaseSchema(database: string): string {
  if (!DATABASE_NAME.test(database)) throw new RangeError('not a tenant database name');
  return `s_${database.slice(2)}`;
}

/**
 * The search_path of every session that runs tenant statements (shared and dedicated pools): nothing
 * a statement could resolve an unqualified table name in, so a table named without SqlWriter.table is an
 * error (42P01), never another tenant's or the shared table. pg_catalog first for functions, operators
 * and types; pg_temp last, so no temporary object can shadow anything (it is searched first when left
 * out).
 */
export const STATEMENT_SEARCH_PATH = 'pg_catalog, pg_temp';
