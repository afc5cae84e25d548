// The one place that builds postgres.js options for the gateway's connections (catalog, change listener,
// shared pool, dedicated tenant pools), so every pool gets the same session settings and failure
// behaviour.
import type { Options } from 'postgres';

/**
 * postgres.js retries a lost connection after min(3^n / 100, 20) s, with n counted across the whole
 * pool and reset only by a success: after a database restart, queries queued meanwhile could wait many
 * seconds. A small fixed delay makes recovery prompt; CONNECT_TIMEOUT and QUERY_TIMEOUT bound the rest.
 */
export const RECONNECT_BACKOFF_SECONDS = 0.2;

export interface ConnectionSettings {
  /** The database to log into, instead of the URL's (a database tenant's own). */
  readonly database?: string;
  readonly username?: string;
  readonly password?: string;
  readonly max: number;
  readonly applicationName: string;
  readonly connectTimeoutSeconds: number;
  /** PostgreSQL cancels a statement running longer than this (statement_timeout). */
  readonly statementTimeoutMs: number;
  /** Close a connection idle this long; undefined keeps it open. */
  readonly idleTimeoutSeconds?: number;
  /** Called when one of the connections closes (its session state is gone). */
  readonly onclose?: () => void;
  /** Called for each NOTIFY on a channel the connection LISTENs to. */
  readonly onnotify?: (channel: string, payload: string) => void;
  /** Never close the connection for idleness or age (a LISTEN must stay in place). */
  readonly keepOpen?: boolean;
  /** Tenant statements (shared and dedicated pools): keep one generic plan per prepared statement. */
  readonly genericPlans?: boolean;
  /**
   * Tenant statements: timestamptz columns arrive as PostgreSQL's text (ISO, UTC), which keeps their
   * microseconds (a JS Date would not; src/users/response.ts formats them). Read as text by the driver
   * rather than cast to text in the statement, because Citus refuses non-immutable expressions such as
   * `created_at::text` in an INSERT's or UPDATE's RETURNING.
   */
  readonly timestampsAsText?: boolean;
  /**
   * Ask the server for its array types on each new connection (postgres.js's default), needed only to
   * bind JavaScript arrays. Tenant statements bind none; and postgres.js 3.4 leaves that query's
   * rejection unhandled when the session dies during it, which would end the process.
   */
  readonly fetchTypes?: boolean;
  /** The session's search_path (src/db/tenant-tables.ts); undefined: the server's default. */
  readonly searchPath?: string;
  /**
   * Prepared statements kept per connection; the least recently used beyond it are closed on the
   * server. Undefined: no bound (postgres.js's own behaviour). An option of our patch of postgres.js
   * (patches/), so missing from its typings.
   */
  readonly maxPrepared?: number;
}

export type ConnectionOptions = Options<Record<string, never>>;

// postgres.js custom type: parse (and serialize) OID 1184, timestamptz, as the text on the wire.
export const TIMESTAMPTZ_AS_TEXT = { to: 1184, from: [1184], serialize: (value: string): string => value, parse: (value: string): string => value };

export function connectionOptions(settings: ConnectionSettings): ConnectionOptions {
  return {
    ...(settings.database === undefined ? {} : { database: settings.database }),
    ...(settings.username === undefined ? {} : { username: settings.username }),
    ...(settings.password === undefined ? {} : { password: settings.password }),
    max: settings.max,
    connect_timeout: settings.connectTimeoutSeconds,
    backoff: () => RECONNECT_BACKOFF_SECONDS,
    onnotice: () => {},
    ...(settings.fetchTypes === false ? { fetch_types: false } : {}),
    ...(settings.timestampsAsText === true ? ({ types: { timestamptzText: TIMESTAMPTZ_AS_TEXT } } as Record<string, unknown>) : {}),
    ...(settings.idleTimeoutSeconds === undefined ? {} : { idle_timeout: settings.idleTimeoutSeconds }),
    ...(settings.onclose === undefined ? {} : { onclose: settings.onclose }),
    // onnotify is the option postgres.js's own listen() builds on; it is missing from its typings.
    ...(settings.onnotify === undefined ? {} : ({ onnotify: settings.onnotify } as Record<string, unknown>)),
    ...(settings.keepOpen === true ? { max_lifetime: null } : {}),
    ...(settings.maxPrepared === undefined ? {} : ({ max_prepared: settings.maxPrepared } as Record<string, unknown>)),
    connection: {
      application_name: settings.applicationName,
      TimeZone: 'UTC',
      // Timestamps are read as text (src/users/response.ts): the ISO style, whatever the server's default.
      DateStyle: 'ISO',
      client_encoding: 'UTF8',
      statement_timeout: settings.statementTimeoutMs,
      ...(settings.searchPath === undefined ? {} : { search_path: settings.searchPath }),
      // Under skew (one tenant with a million rows among thousands with ten) PostgreSQL's plan cache
      // compares the generic plan's cost, estimated for an average tenant, with each custom plan's,
      // and keeps planning every execution: 1 plan per request, measured (bench: plans/req). Every
      // tenant statement is an index range on (tenant_id, sort column, id) under a LIMIT, which is the
      // right plan for a tenant of any size, so the generic plan is kept and planning is paid once.
      ...(settings.genericPlans === true ? { plan_cache_mode: 'force_generic_plan' } : {}),
    },
  };
}
