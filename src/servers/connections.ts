// How the gateway reaches each server as its owner: main through the catalog connection, a data server
// through a small connection of its own, opened on first use from its catalog row (URL and sealed
// password). Provisioning, moves and per-server pools start here; nothing else reads servers' secrets.
import postgres, { type Sql } from 'postgres';
import type { KeyRing } from '../crypto/key-ring.js';
import { connectionOptions } from '../db/connection-options.js';
import { NotFound } from '../errors.js';
import { MAIN_SERVER } from './catalog.js';
import { joinServerUrl } from './server-url.js';

export interface ServerRecord {
  readonly name: string;
  /** The URL to connect with, password included: never log or return it. */
  readonly url: string;
  /** The server's connection budget; null for main (MAX_CONNECTIONS_TOTAL applies). */
  readonly maxConnections: number | null;
}

export interface ServerConnections {
  /** The server as listed in the catalog (NotFound when it is not). */
  record(name: string): Promise<ServerRecord>;
  /** The owner connection of a server; main's is the catalog's. */
  admin(name: string): Promise<Sql>;
  /** Closes a data server's owner connection (it was removed). */
  forget(name: string): Promise<void>;
  close(): Promise<void>;
}

export interface ServerConnectionsOptions {
  /** DATABASE_URL: main's URL. */
  readonly mainUrl: string;
  readonly connectTimeoutSeconds: number;
  /** Owner connections per data server (provisioning, moves, migrations). */
  readonly adminMax?: number;
}

export function createServerConnections(catalog: Sql, keys: KeyRing, options: ServerConnectionsOptions): ServerConnections {
  const admins = new Map<string, Sql>();

  const record = async (name: string): Promise<ServerRecord> => {
    if (name === MAIN_SERVER) return { name, url: options.mainUrl, maxConnections: null };
    const [row] = await catalog<{ url: string; password_sealed: string; max_connections: number }[]>`
      SELECT url, password_sealed, max_connections FROM servers WHERE name = ${name}`;
    if (!row) throw new NotFound('server_not_found', `no server named "${name}"`);
    return { name, url: joinServerUrl(row.url, keys.open(row.password_sealed)), maxConnections: row.max_connections };
  };

  return {
    record,
    async admin(name) {
      if (name === MAIN_SERVER) return catalog;
      const open = admins.get(name);
      if (open) return open;
      const { url } = await record(name);
      // Another caller may have opened it while this one read the catalog.
      const raced = admins.get(name);
      if (raced) return raced;
      const sql = postgres(
        url,
        connectionOptions({
          max: options.adminMax ?? 2,
          idleTimeoutSeconds: 60,
          applicationName: 'tenantgate-admin',
          connectTimeoutSeconds: options.connectTimeoutSeconds,
          statementTimeoutMs: 60_000,
        }),
      );
      admins.set(name, sql);
      return sql;
    },
    async forget(name) {
      const sql = admins.get(name);
      admins.delete(name);
      await sql?.end({ timeout: 1 });
    },
    async close() {
      const all = [...admins.values()];
      admins.clear();
      await Promise.all(all.map((sql) => sql.end({ timeout: 1 })));
    },
  };
}
