// What an isolation model decides, so that a new one (a database per tenant, Citus) plugs in beside the
// row and schema models without touching the request path or the catalog: how a session is scoped to a
// tenant (the shared role's setting), where its tables are (the qualified names its statements use), and
// what a tenant needs created and removed in the database. A dedicated pool logs in as the tenant's own
// role under every model (src/pool/tenant-pool.ts).
import type { Sql, TransactionSql } from 'postgres';
import type { TenantTables } from '../db/tenant-tables.js';
import type { IsolationModelName, Placement } from '../tenants/placement.js';

/** A new tenant: its role, the SCRAM verifier of its password (never the password), its data name. */
export interface TenantLogin {
  readonly role: string;
  readonly verifier: string;
  readonly dataName: string | null;
}

/** The server a tenant's data is on: its owner's connection and URL (with the password: never log it). */
export interface DataServer {
  readonly admin: Sql;
  readonly url: string;
}

/**
 * For a model whose tenants have a database of their own: CREATE DATABASE cannot run in a transaction,
 * so what the tenant needs is made before its catalog row is written (and removed if that fails), and
 * removed before the row is deleted. Each step may be repeated after a failure.
 */
export interface OwnDatabaseProvisioning {
  /** Creates the tenant's role, database and tables; returns the tenant-data version they are at. */
  provision(server: DataServer, login: TenantLogin): Promise<number>;
  /** Drops the tenant's database (ending its sessions) and role; nothing to drop is no error. */
  deprovision(server: DataServer, role: string, dataName: string): Promise<void>;
}

export interface IsolationModel {
  readonly name: IsolationModelName;
  /** Tenants provisioned per transaction in bulk: what one transaction's locks and catalog changes allow. */
  readonly bulkChunk: number;
  /**
   * The simple-protocol statement that scopes a shared-pool session (`local`: only its transaction) to
   * the tenant. Its only value is the tenant's id from the catalog.
   */
  sharedScope(tenantId: string, local: boolean): string;
  /** The tenant's tables, qualified: statements name nothing through a search_path. */
  tables(placement: Placement): TenantTables;
  /** The schema or database a new tenant gets, from its role name; null when it gets none. */
  dataNameFor(role: string): string | null;
  /**
   * Creates what the tenants need, in the catalog transaction that records them. Returns the
   * tenant-data version they are created at (null when the model keeps no tenant data of its own).
   */
  provision(tx: TransactionSql, logins: readonly TenantLogin[]): Promise<number | null>;
  /** Removes what the tenant had, in the transaction that deletes its catalog row. */
  deprovision(tx: TransactionSql, role: string, dataName: string | null): Promise<void>;
  /**
   * Set for a model whose tenants have a database of their own: provisioned by this instead of inside
   * the catalog transaction, and served on the tenant's own pool only (a connection belongs to one
   * database, so the shared pool cannot serve them).
   */
  readonly ownDatabase?: OwnDatabaseProvisioning;
}
