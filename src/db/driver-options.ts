// Driver settings every pool shares (catalog, shared, dedicated), chosen for failure behaviour.
import type { Options } from 'postgres';

/**
 * postgres.js retries a lost connection after min(3^n / 100, 20) s, with n counted across the whole
 * pool and reset only by a success: after a database restart, queries queued meanwhile could wait many
 * seconds. A small fixed delay makes recovery prompt; CONNECT_TIMEOUT and QUERY_TIMEOUT bound the rest.
 */
export const RECONNECT_BACKOFF_SECONDS = 0.2;

export function driverOptions(connectTimeoutSeconds: number): Partial<Options<Record<string, never>>> {
  return {
    connect_timeout: connectTimeoutSeconds,
    backoff: () => RECONNECT_BACKOFF_SECONDS,
    onnotice: () => {},
  };
}
