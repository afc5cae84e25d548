// What an isolation model decides, so that a new one (a schema per tenant, a database per tenant,
// Citus) plugs in beside the row model without touching the request path or the catalog: how the
// shared pool scopes a session to a tenant, and what a tenant needs created and removed in the
// database. A dedicated pool logs in as the tenant's own role under every model (src/pool/tenant-pool.ts).
import type { TransactionSql } from 'postgres';
import type { IsolationModelName } from '../tenants/placement.js';

/** A new tenant's role and the SCRAM verifier of its password (never the password itself). */
export interface TenantLogin {
  readonly role: string;
  readonly verifier: string;
}

export interface IsolationModel {
  readonly name: IsolationModelName;
  /**
   * The simple-protocol statement that scopes a shared-pool session (`local`: only its transaction) to
   * the tenant. Its only value is the tenant's id from the catalog.
   */
  sharedScope(tenantId: string, local: boolean): string;
  /** Creates what the tenants need, in the catalog transaction that records them. */
  provision(tx: TransactionSql, logins: readonly TenantLogin[]): Promise<void>;
  /** Removes what the tenant had, in the transaction that deletes its catalog row. */
  deprovision(tx: TransactionSql, role: string): Promise<void>;
}
