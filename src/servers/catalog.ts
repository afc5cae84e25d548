// The servers tenants may live on, in the catalog (sql/013): add one (the gateway reaches it, brings its
// schema to this build's migrations and sets up its shared role before it is listed), list them, remove
// an empty one. The URL's password is sealed like tenant passwords and never shown.
import postgres, { type Sql } from 'postgres';
import type { KeyRing } from '../crypto/key-ring.js';
import { connectionOptions } from '../db/connection-options.js';
import { isConnectionFailure, translateDbError } from '../db/errors.js';
import { migrate } from '../db/migrate.js';
import { Conflict, NotFound, UnprocessableEntity } from '../errors.js';
import { ensureAuthenticator } from '../pool/authenticator.js';
import { splitServerUrl } from './server-url.js';

/** The catalog's own server. */
export const MAIN_SERVER = 'main';

export interface ServerInfo {
  readonly name: string;
  /** The owner URL without its password; null for main (DATABASE_URL). */
  readonly url: string | null;
  /** Its connection budget; null for main (MAX_CONNECTIONS_TOTAL). */
  readonly max_connections: number | null;
  readonly tenants: number;
  readonly created_at: Date;
}

export interface NewServer {
  readonly name: string;
  readonly url: string;
  readonly maxConnections: number;
}

export interface ServerCatalog {
  add(server: NewServer): Promise<ServerInfo>;
  list(): Promise<ServerInfo[]>;
  get(name: string): Promise<ServerInfo | undefined>;
  /** Refused for main and for a server tenants still live on. */
  remove(name: string): Promise<void>;
}

export interface ServerCatalogOptions {
  readonly connectTimeoutSeconds: number;
}

/**
 * Which database of which running cluster a connection reaches, whatever host name led there: the
 * cluster's start time (to the microsecond), port and the database's oid. Main's own database reached
 * under another name must not become a data server, whose tenant records would land in the catalog.
 */
async function databaseIdentity(sql: Sql): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    SELECT concat_ws('/', pg_postmaster_start_time()::text, current_setting('port'), d.oid::text) AS id
    FROM pg_database d WHERE d.datname = current_database()`;
  return row?.id ?? '';
}

export function createServerCatalog(catalog: Sql, keys: KeyRing, options: ServerCatalogOptions): ServerCatalog {
  const one = async (name: string): Promise<ServerInfo | undefined> => {
    const [row] = await catalog<ServerInfo[]>`
      SELECT s.name, s.url, s.max_connections, s.created_at,
             (SELECT count(*) FROM tenants t WHERE t.server = s.name)::int AS tenants
      FROM servers s WHERE s.name = ${name}`;
    return row;
  };

  /** Reaches the server as its owner and brings it to this build's schema; refuses one it cannot. */
  const prepare = async (url: string): Promise<void> => {
    const sql = postgres(
      url,
      connectionOptions({ max: 1, applicationName: 'tenantgate-admin', connectTimeoutSeconds: options.connectTimeoutSeconds, statementTimeoutMs: 60_000 }),
    );
    try {
      if ((await databaseIdentity(sql)) === (await databaseIdentity(catalog))) {
        throw new Conflict('server_exists', "url names the catalog's own database, which is server main");
      }
      await migrate(sql);
      await ensureAuthenticator(sql, keys);
    } catch (err) {
      if (err instanceof Conflict) throw err;
      const code = String((err as { code?: unknown }).code ?? 'unreachable');
      // Refused logins (28P01 password, 28000 no pg_hba entry, 3D000 no such database) are the URL's
      // fault, like a server that does not answer: the caller must fix it, retrying will not help.
      if (isConnectionFailure(err) || code === '28P01' || code === '28000' || code === '3D000') {
        throw new UnprocessableEntity(
          'server_unreachable',
          `the gateway could not log in to the server at url (${code}); check host, port, user, password and database`,
        );
      }
      if (code === '42501') {
        throw new UnprocessableEntity(
          'server_refused',
          `the url's user lacks a privilege the gateway needs on the server (${code}); it must own the database and be allowed to create roles`,
        );
      }
      throw translateDbError(err) ?? err;
    } finally {
      await sql.end({ timeout: 1 });
    }
  };

  return {
    async add({ name, url, maxConnections }) {
      const { publicUrl, password } = splitServerUrl(url);
      if (await one(name)) throw new Conflict('server_exists', `a server named "${name}" already exists`);
      const [same] = await catalog<{ name: string }[]>`SELECT name FROM servers WHERE url = ${publicUrl}`;
      if (same) throw new Conflict('server_exists', `server "${same.name}" already has this url`);
      await prepare(url);
      try {
        await catalog`
          INSERT INTO servers (name, url, password_sealed, max_connections)
          VALUES (${name}, ${publicUrl}, ${keys.seal(password)}, ${maxConnections})`;
      } catch (err) {
        if ((err as { code?: unknown }).code === '23505') throw new Conflict('server_exists', `a server named "${name}" already exists`);
        throw translateDbError(err) ?? err;
      }
      return (await one(name)) as ServerInfo;
    },

    async list() {
      return catalog<ServerInfo[]>`
        SELECT s.name, s.url, s.max_connections, s.created_at,
               (SELECT count(*) FROM tenants t WHERE t.server = s.name)::int AS tenants
        FROM servers s ORDER BY s.name <> ${MAIN_SERVER}, s.name`;
    },

    get: one,

    async remove(name) {
      if (name === MAIN_SERVER) throw new Conflict('server_in_use', "main is the catalog's own server and cannot be removed");
      try {
        const deleted = await catalog`DELETE FROM servers WHERE name = ${name}`;
        if (deleted.count === 0) throw new NotFound('server_not_found', `no server named "${name}"`);
      } catch (err) {
        if ((err as { code?: unknown }).code === '23503') {
          throw new Conflict('server_in_use', `tenants still live on server "${name}"; move or delete them first`);
        }
        throw translateDbError(err) ?? err;
      }
    },
  };
}
