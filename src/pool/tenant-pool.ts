// Opens the connection pool of one tenant: reads its role and sealed password from the catalog, opens
// the password, and logs in as the tenant's own role, so that PostgreSQL's row-level security (not
// the gateway) decides which rows the tenant's queries see. A database tenant logs into its own
// database on the server; the others into the catalog's.
import postgres, { type Sql } from 'postgres';
import type { KeyRing } from '../crypto/key-ring.js';
import { connectionOptions } from '../db/connection-options.js';
import { isAuthenticationFailure, translateDbError } from '../db/errors.js';
import { STATEMENT_SEARCH_PATH } from '../db/tenant-tables.js';
import { Forbidden, NotFound } from '../errors.js';
import type { PoolOpener } from './dedicated-pools.js';

export interface TenantPoolOptions {
  /** The catalog database URL; tenant pools reach the same server and database as their own role. */
  readonly databaseUrl: string;
  readonly keys: KeyRing;
  readonly maxPerTenant: number;
  readonly idleTimeoutSeconds: number;
  readonly connectTimeoutSeconds: number;
  readonly statementTimeoutMs: number;
}

interface TenantLogin {
  readonly db_user: string;
  readonly db_password_encrypted: string;
  readonly status: string;
  /** The tenant's own database (database model); null: the URL's. */
  readonly own_database: string | null;
}

export function createTenantPoolOpener(catalog: Sql, options: TenantPoolOptions): PoolOpener {
  const readLogin = async (tenantId: string): Promise<TenantLogin> => {
    const [row] = await catalog<TenantLogin[]>`
      SELECT db_user, db_password_encrypted, status, CASE WHEN model = 'database' THEN data_name END AS own_database
      FROM tenants WHERE id = ${tenantId}`;
    if (!row) throw new NotFound('tenant_not_found', `no tenant with id ${tenantId}`);
    if (row.status !== 'active') throw new Forbidden('tenant_suspended', `tenant ${tenantId} is suspended`);
    return row;
  };

  const connect = async (login: TenantLogin, size: number): Promise<Sql> => {
    const sql = postgres(
      options.databaseUrl,
      connectionOptions({
        ...(login.own_database === null ? {} : { database: login.own_database }),
        username: login.db_user,
        password: options.keys.open(login.db_password_encrypted),
        max: Math.min(size, options.maxPerTenant),
        idleTimeoutSeconds: options.idleTimeoutSeconds,
        applicationName: 'tenantgate',
        connectTimeoutSeconds: options.connectTimeoutSeconds,
        statementTimeoutMs: options.statementTimeoutMs,
        genericPlans: true,
        timestampsAsText: true,
        fetchTypes: false,
        searchPath: STATEMENT_SEARCH_PATH,
      }),
    );
    try {
      // Prove the login now, so a pool that cannot connect is never cached.
      await sql`SELECT 1`;
      return sql;
    } catch (err) {
      await sql.end({ timeout: 0 });
      throw err;
    }
  };

  return async (tenantId, size) => {
    try {
      try {
        return await connect(await readLogin(tenantId), size);
      } catch (err) {
        // A rotation may have committed between our catalog read and the login: read once more.
        if (!isAuthenticationFailure(err)) throw err;
        return await connect(await readLogin(tenantId), size);
      }
    } catch (err) {
      throw translateDbError(err) ?? err;
    }
  };
}
