// A PostgreSQL server of a test file's own, prepared as a tenantgate data server: its database owned by
// a role that is no superuser (so the shared tables' forced row-level security holds it, as in
// production), migrated and given its shared role by that owner. No vitest hooks here.
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres, { type Sql } from 'postgres';
import type { KeyRing } from '../../src/crypto/key-ring.js';
import { migrate } from '../../src/db/migrate.js';
import { ensureAuthenticator, type AuthenticatorLogin } from '../../src/pool/authenticator.js';
import { startPostgresServer, type PostgresServer } from './postgres-server.js';
import { freePort } from './ports.js';

export interface DataServer {
  readonly port: number;
  /** The owner's URL, password included: what POST /v1/admin/servers is given. */
  readonly ownerUrl: string;
  /** Superuser connection (bypasses row-level security): for checking what is stored. */
  readonly superuser: Sql;
  /** The database owner's connection: what the gateway (and a move) uses. */
  readonly owner: Sql;
  readonly shared: AuthenticatorLogin;
  /** A connection logging in as `role` (a tenant's or the shared role). */
  login(role: string, password: string, max?: number): Sql;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

const DATABASE = 'tenantgate';
const OWNER = 'tg_owner';

export async function startDataServer(keys: KeyRing): Promise<DataServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tenantgate-data-'));
  // mkdtemp makes it 0700; as root, PostgreSQL runs as the postgres system user and must get through.
  await chmod(dataDir, 0o755);
  const port = await freePort();
  const superuserPassword = randomBytes(18).toString('base64url');
  const ownerPassword = randomBytes(18).toString('base64url');
  const options = { dataDir, port, superuserPassword, database: DATABASE };
  let server: PostgresServer | undefined = await startPostgresServer(options);
  const superuser = postgres(server.url, { max: 2, onnotice: () => {}, connection: { TimeZone: 'UTC' } });
  await superuser.unsafe(`CREATE ROLE ${OWNER} LOGIN CREATEROLE PASSWORD '${ownerPassword}'`);
  await superuser.unsafe(`ALTER DATABASE ${DATABASE} OWNER TO ${OWNER}`);
  // Dropping a tenant's role ends its sessions first (tenantgate_drop_role): a non-superuser owner needs
  // the right to signal other roles' backends.
  await superuser.unsafe(`GRANT pg_signal_backend TO ${OWNER}`);
  const login = (username: string, password: string, max = 1): Sql =>
    postgres({ host: '127.0.0.1', port, database: DATABASE, username, password, max, onnotice: () => {}, connect_timeout: 5, connection: { TimeZone: 'UTC' } });
  const owner = login(OWNER, ownerPassword, 6);
  await migrate(owner);
  const shared = await ensureAuthenticator(owner, keys);
  return {
    port,
    ownerUrl: `postgres://${OWNER}:${encodeURIComponent(ownerPassword)}@127.0.0.1:${port}/${DATABASE}`,
    superuser,
    owner,
    shared,
    login,
    async stop() {
      await server?.stop();
      server = undefined;
    },
    async start() {
      server ??= await startPostgresServer(options);
    },
    async destroy() {
      await Promise.all([owner.end({ timeout: 5 }), superuser.end({ timeout: 5 })]);
      await server?.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
