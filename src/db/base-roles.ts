// The base roles tenant roles are made members of (tenantgate_tenant, tenantgate_schema_tenant) are
// server-wide: a second catalog on the same server whose owner did not create them cannot grant them
// (PostgreSQL 16+ gives a CREATEROLE role ADMIN only over roles it created), so its migrations would
// succeed and every tenant creation then fail with "permission denied to grant role". Checked once the
// migrations ran, by doing exactly what tenant creation does and rolling it back.
import { randomBytes } from 'node:crypto';
import type { Sql } from 'postgres';

const BASE_ROLES = ['tenantgate_tenant', 'tenantgate_schema_tenant'] as const;

export class BaseRoleConflict extends Error {
  readonly code = 'base_role_conflict';
  constructor(
    readonly role: string,
    owner: string,
    database: string,
  ) {
    super(
      `the catalog owner ${owner} cannot grant the server-wide role ${role}, which another tenantgate catalog on this PostgreSQL server ` +
        `(or a superuser) created: creating a tenant in database ${database} would fail. Run this catalog under the role that owns the ` +
        `other one, on its own server, or have a superuser run: GRANT ${role} TO "${owner}" WITH ADMIN OPTION`,
    );
    this.name = 'BaseRoleConflict';
  }
}

/** Rolls the probe back whatever happened. */
class Probed extends Error {}

export async function checkBaseRoles(sql: Sql): Promise<void> {
  for (const role of BASE_ROLES) {
    const probe = `tenantgate_probe_${randomBytes(6).toString('hex')}`;
    let step: 'create' | 'grant' = 'create';
    try {
      await sql.begin(async (tx) => {
        await tx`CREATE ROLE ${tx(probe)} NOLOGIN`;
        step = 'grant';
        await tx`GRANT ${tx(role)} TO ${tx(probe)}`;
        throw new Probed();
      });
    } catch (err) {
      if (err instanceof Probed) continue;
      const code = (err as { code?: unknown }).code;
      // 42704: this set of migrations does not create that role (e.g. a test's own migrations).
      if (code === '42704') continue;
      // An owner without CREATEROLE cannot create tenants at all; not this check's concern (README).
      if (code === '42501' && step === 'create') return;
      if (code !== '42501') throw err;
      const [who] = await sql<{ owner: string; database: string }[]>`SELECT current_user AS owner, current_database() AS database`;
      throw new BaseRoleConflict(role, who?.owner ?? 'the catalog owner', who?.database ?? 'this database');
    }
  }
}
