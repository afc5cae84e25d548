// A tenant's hosted row on a data server (issue 10 contract): the row in that server's own `tenants`
// table that its `users.tenant_id` foreign key needs. Same id, role, model and data name as the catalog
// row, its id as name, and no password (data servers hold no secrets). On the catalog's own server the
// catalog row is the hosted row, and is never created or removed here.
// TODO(servers): replace with src/servers/hosted.ts (hostTenant/unhostTenant) once it is on main.
import type { TransactionSql } from 'postgres';
import type { IsolationModelName } from '../tenants/placement.js';

export interface HostedTenant {
  readonly id: string;
  readonly role: string;
  readonly model: IsolationModelName;
  readonly dataName: string | null;
  readonly dataVersion: number | null;
}

export async function hostTenant(tx: TransactionSql, t: HostedTenant): Promise<void> {
  await tx`
    INSERT INTO tenants (id, name, db_user, db_password_encrypted, model, data_name, data_version)
    VALUES (${t.id}, ${t.id}, ${t.role}, '', ${t.model}, ${t.dataName}, ${t.dataVersion})`;
}

export async function unhostTenant(tx: TransactionSql, id: string): Promise<void> {
  await tx`DELETE FROM tenants WHERE id = ${id}`;
}
