// Re-seals every stored password under the newest master key (`npm run cli -- keys rotate`). Passwords
// themselves do not change, so no pool has to log in again and no request fails meanwhile. Work goes
// in committed batches and skips what is already current, so an interrupted run simply resumes; each
// row is updated only if it still holds the ciphertext that was read, so a password rotation racing
// with it wins.
import type { Sql } from 'postgres';
import type { KeyRing } from '../crypto/key-ring.js';
import { Conflict } from '../errors.js';
import type { ServerConnections } from '../servers/connections.js';

export interface RekeyProgress {
  readonly rekeyed: number;
  readonly skipped: number;
}

export async function rekeyAll(
  sql: Sql,
  keys: KeyRing,
  options: {
    batchSize?: number;
    onBatch?: (progress: RekeyProgress) => void;
    /** How to reach data servers, to re-seal their shared-role passwords (sealed in their own databases). */
    servers?: ServerConnections;
  } = {},
): Promise<RekeyProgress> {
  const currentId = keys.currentId;
  if (currentId === undefined) {
    throw new Conflict('no_key_ring', 'keys rotate needs CREDENTIALS_KEYS (id:hex,… newest first), not a single CREDENTIALS_KEY');
  }
  const prefix = `${currentId}$`;
  const batchSize = options.batchSize ?? 500;
  let rekeyed = 0;
  let skipped = 0;
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await sql<{ id: string; sealed: string }[]>`
      SELECT id, db_password_encrypted AS sealed FROM tenants
      WHERE id > ${after}::uuid AND left(db_password_encrypted, ${prefix.length}) <> ${prefix}
      ORDER BY id LIMIT ${batchSize}`;
    if (rows.length === 0) break;
    after = rows[rows.length - 1]?.id ?? after;
    const ids = rows.map((r) => r.id);
    const olds = rows.map((r) => r.sealed);
    const news = rows.map((r) => keys.seal(keys.open(r.sealed)));
    const updated = await sql`
      UPDATE tenants t SET db_password_encrypted = x.new
      FROM unnest(${ids}::uuid[], ${olds}::text[], ${news}::text[]) AS x(id, old, new)
      WHERE t.id = x.id AND t.db_password_encrypted = x.old`;
    rekeyed += updated.count;
    skipped += rows.length - updated.count;
    options.onBatch?.({ rekeyed, skipped });
  }
  // The shared pool's login is sealed the same way.
  rekeyed += await resealAuthenticator(sql, keys);
  // So are the data servers' owner passwords, in the catalog, and each data server's own shared-role
  // password, in its database: with the old key gone, none of them could be opened.
  const servers = await sql<{ name: string; sealed: string }[]>`
    SELECT name, password_sealed AS sealed FROM servers WHERE password_sealed IS NOT NULL ORDER BY name`;
  for (const server of servers) {
    if (!keys.isCurrent(server.sealed)) {
      const result = await sql`
        UPDATE servers SET password_sealed = ${keys.seal(keys.open(server.sealed))}
        WHERE name = ${server.name} AND password_sealed = ${server.sealed}`;
      rekeyed += result.count;
    }
    if (options.servers !== undefined) rekeyed += await resealAuthenticator(await options.servers.admin(server.name), keys);
  }
  return { rekeyed, skipped };
}

async function resealAuthenticator(sql: Sql, keys: KeyRing): Promise<number> {
  const [auth] = await sql<{ value: string }[]>`SELECT value FROM gateway_settings WHERE key = 'authenticator_password'`;
  if (!auth || keys.isCurrent(auth.value)) return 0;
  const result = await sql`
    UPDATE gateway_settings SET value = ${keys.seal(keys.open(auth.value))}
    WHERE key = 'authenticator_password' AND value = ${auth.value}`;
  return result.count;
}
