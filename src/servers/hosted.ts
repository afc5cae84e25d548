// A data server's own record of a tenant it hosts: a row in that server's `tenants` table (sql/013), the
// target of its users' foreign key. It carries no secret (the password column is empty) and no name
// of its own (the id stands in, so a rename never has to reach the data server); the catalog on main
// stays the one place a tenant is described.
import type { TransactionSql } from 'postgres';

export interface HostedTenant {
  readonly id: string;
  readonly role: string;
  readonly model: string;
  readonly dataName: string | null;
  readonly dataVersion: number | null;
}

export async function hostTenant(tx: TransactionSql, tenant: HostedTenant): Promise<void> {
  await tx`
    INSERT INTO public.tenants (id, name, db_user, db_password_encrypted, model, data_name, data_version)
    VALUES (${tenant.id}, ${tenant.id}, ${tenant.role}, '', ${tenant.model}, ${tenant.dataName}, ${tenant.dataVersion})`;
}

/** Removes the record, and with it (ON DELETE CASCADE) the tenant's rows in the shared tables. */
export async function unhostTenant(tx: TransactionSql, id: string): Promise<void> {
  await tx`DELETE FROM public.tenants WHERE id = ${id}`;
}
