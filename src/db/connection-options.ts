// The one place that builds postgres.js options for the gateway's connections (catalog, shared pool,
// dedicated tenant pools), so every pool gets the same session settings and failure behaviour.
import type { Options } from 'postgres';

/**
 * postgres.js retries a lost connection after min(3^n / 100, 20) s, with n counted across the whole
 * pool and reset only by a success: after a database restart, queries queued meanwhile could wait many
 * seconds. A small fixed delay makes recovery prompt; CONNECT_TIMEOUT and QUERY_TIMEOUT bound the rest.
 */
export const RECONNECT_BACKOFF_SECONDS = 0.2;

export interface ConnectionSettings {
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
}

export type ConnectionOptions = Options<Record<string, never>>;

export function connectionOptions(settings: ConnectionSettings): ConnectionOptions {
  return {
    ...(settings.username === undefined ? {} : { username: settings.username }),
    ...(settings.password === undefined ? {} : { password: settings.password }),
    max: settings.max,
    connect_timeout: settings.connectTimeoutSeconds,
    backoff: () => RECONNECT_BACKOFF_SECONDS,
    onnotice: () => {},
    ...(settings.idleTimeoutSeconds === undefined ? {} : { idle_timeout: settings.idleTimeoutSeconds }),
    ...(settings.onclose === undefined ? {} : { onclose: settings.onclose }),
    connection: {
      application_name: settings.applicationName,
      TimeZone: 'UTC',
      // Timestamps are read as text (src/users/response.ts): the ISO style, whatever the server's default.
      DateStyle: 'ISO',
      client_encoding: 'UTF8',
      statement_timeout: settings.statementTimeoutMs,
    },
  };
}
