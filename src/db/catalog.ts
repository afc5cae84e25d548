// The gateway's own connection to the catalog database, as the schema owner: tenant administration and
// catalog look-ups go through it, never tenant data.
import postgres, { type Sql } from 'postgres';
import { driverOptions } from './driver-options.js';

export interface CatalogOptions {
  readonly max?: number;
  readonly connectTimeoutSeconds: number;
  readonly applicationName?: string;
  /** PostgreSQL cancels a catalog statement running longer than this (default 10 s). */
  readonly statementTimeoutMs?: number;
}

export function connectCatalog(url: string, options: CatalogOptions): Sql {
  return postgres(url, {
    ...driverOptions(options.connectTimeoutSeconds),
    max: options.max ?? 5,
    idle_timeout: 60,
    connection: {
      application_name: options.applicationName ?? 'tenantgate-catalog',
      TimeZone: 'UTC',
      // A stalled catalog statement must not hold requests (tenant look-ups) forever.
      statement_timeout: options.statementTimeoutMs ?? 10_000,
    },
  });
}
