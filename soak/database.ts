// The soak's own PostgreSQL: an embedded server (src/db/embedded.ts, password authentication) in a fresh
// temporary data directory on a free port, which the fault schedule stops and starts again, and the
// soak's superuser connection (fault injection, samplers, the final count of rows).
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres, { type Sql } from 'postgres';
import { startEmbeddedPostgres, type EmbeddedServer } from '../src/db/embedded.js';
import { freePort } from './ports.js';

const DATABASE = 'tenantgate_soak';

export interface SoakDatabase {
  /** Superuser URL: the gateway's DATABASE_URL (owner of the schema, CREATEROLE). */
  readonly url: string;
  readonly dataDir: string;
  readonly port: number;
  /** The soak's superuser handle; postgres.js replaces its connections after a restart. */
  readonly sql: Sql;
  /** Stops the server (fast shutdown: every backend goes). */
  stop(): Promise<void>;
  /** Starts it again on the same data directory and port. */
  start(): Promise<void>;
  /** Stops it for good and, unless kept, removes the data directory. */
  close(keepData: boolean): Promise<void>;
}

export async function openSoakDatabase(log: (line: string) => void): Promise<SoakDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tenantgate-soak-'));
  // mkdtemp makes it 0700; as root, PostgreSQL runs as the postgres system user and must get through.
  await chmod(dataDir, 0o755);
  const port = await freePort();
  // SOAK_PG_LOG=<file>: PostgreSQL's own log lines, with connections and disconnections, for diagnosis.
  const pgLog = process.env.SOAK_PG_LOG ? createWriteStream(process.env.SOAK_PG_LOG, { flags: 'a' }) : undefined;
  const options = {
    dataDir,
    port,
    superuserPassword: randomBytes(18).toString('base64url'),
    database: DATABASE,
    ...(pgLog ? { onLog: (line: string) => void pgLog.write(`${Date.now()} ${line}\n`) } : {}),
  };
  let server: EmbeddedServer | undefined = await startEmbeddedPostgres(options);
  const url = server.url;
  if (pgLog) {
    const admin = postgres(server.url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`ALTER SYSTEM SET log_connections = 'on'`);
    await admin.unsafe(`ALTER SYSTEM SET log_disconnections = 'on'`);
    await admin.unsafe(`ALTER SYSTEM SET log_line_prefix = '%m [%p] %a %u %e '`);
    await admin.unsafe('SELECT pg_reload_conf()');
    await admin.end();
  }
  log(`database: embedded PostgreSQL on 127.0.0.1:${port}, data in ${dataDir}`);
  const sql = postgres(url, {
    max: 3,
    onnotice: () => {},
    connect_timeout: 2,
    backoff: () => 0.2,
    connection: { application_name: 'soak', TimeZone: 'UTC' },
  });
  const stop = async (): Promise<void> => {
    const running = server;
    server = undefined;
    await running?.stop();
  };
  return {
    url,
    dataDir,
    port,
    sql,
    stop,
    async start() {
      if (server) return;
      server = await startEmbeddedPostgres(options);
    },
    async close(keepData) {
      await sql.end({ timeout: 2 }).catch(() => undefined);
      await stop();
      if (keepData) log(`database kept in ${dataDir}`);
      else await rm(dataDir, { recursive: true, force: true });
    },
  };
}
