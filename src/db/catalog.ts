// The gateway's own connection to the catalog database, as the schema owner: tenant administration and
// catalog look-ups go through it, never tenant data.
import postgres, { type Sql } from 'postgres';
import { connectionOptions } from './connection-options.js';

export interface CatalogOptions {
  readonly max?: number;
  readonly connectTimeoutSeconds: number;
  readonly applicationName?: string;
  /** PostgreSQL cancels a catalog statement running longer than this (default 10 s). */
  readonly statementTimeoutMs?: number;
}

export function connectCatalog(url: string, options: CatalogOptions): Sql {
  return postgres(
    url,
    connectionOptions({
      max: options.max ?? 5,
      idleTimeoutSeconds: 60,
      applicationName: options.applicationName ?? 'tenantgate-catalog',
      connectTimeoutSeconds: options.connectTimeoutSeconds,
      // A stalled catalog statement must not hold requests (tenant look-ups) forever.
      statementTimeoutMs: options.statementTimeoutMs ?? 10_000,
    }),
  );
}
