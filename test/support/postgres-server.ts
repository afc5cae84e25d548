// The PostgreSQL server a test run (or a test file of its own) uses: the embedded PostgreSQL 18, or, when
// TEST_PG_BIN names a directory of server binaries (CI: Debian's /usr/lib/postgresql/15/bin), a cluster
// made by that initdb and run by that pg_ctl. Same shape either way: data under `<dataDir>/pg`,
// scram-sha-256 password authentication, loopback only, max_connections 200, stop and start again on the
// same data. No vitest hooks here: the global setup uses it too.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureDatabase, isReachable, startEmbeddedPostgres } from '../../src/db/embedded.js';
import postgres from 'postgres';

const run = promisify(execFile);

export interface PostgresServerOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly superuserPassword: string;
  /** Created if missing; the returned URL points at it. */
  readonly database: string;
}

export interface PostgresServer {
  /** Superuser URL of `database`. */
  readonly url: string;
  /** Stops the server (fast shutdown); start it again with the same options. */
  stop(): Promise<void>;
}

/** The server binaries the tests run against, when not the embedded ones. */
export function testServerBinaries(): string | undefined {
  return process.env.TEST_PG_BIN || undefined;
}

export async function startPostgresServer(options: PostgresServerOptions): Promise<PostgresServer> {
  const bin = testServerBinaries();
  if (bin === undefined) return startEmbeddedPostgres(options);
  return startFromBinaries(bin, options);
}

const SUPERUSER = 'postgres';
// PostgreSQL refuses to run as root: there it runs as the postgres system user (the Debian package
// creates it), which must own the cluster directory.
const SYSTEM_USER = 'postgres';

async function startFromBinaries(bin: string, options: PostgresServerOptions): Promise<PostgresServer> {
  const pgData = join(options.dataDir, 'pg');
  const asRoot = process.getuid?.() === 0;
  const exec = async (program: string, args: readonly string[]): Promise<void> => {
    const [file, argv] = asRoot ? ['runuser', ['-u', SYSTEM_USER, '--', join(bin, program), ...args]] : [join(bin, program), [...args]];
    try {
      await run(file, argv, { env: { ...process.env, LC_MESSAGES: 'C' }, timeout: 60_000 });
    } catch (err) {
      const { stderr, stdout } = err as { stderr?: string; stdout?: string };
      throw new Error(`${program} ${args.join(' ')} failed: ${(stderr || stdout || String(err)).trim()}`);
    }
  };
  const url = (db: string): string => `postgres://${SUPERUSER}:${encodeURIComponent(options.superuserPassword)}@127.0.0.1:${options.port}/${db}`;

  if (!existsSync(join(pgData, 'PG_VERSION'))) {
    await mkdir(pgData, { recursive: true, mode: 0o700 });
    const passwordFile = join(options.dataDir, 'superuser-password');
    await writeFile(passwordFile, `${options.superuserPassword}\n`, { mode: 0o600 });
    if (asRoot) {
      const { uid, gid } = await systemUser();
      await chown(pgData, uid, gid);
      await chown(passwordFile, uid, gid);
    }
    try {
      // UTF8 in C.UTF-8 (code-point order, Unicode case folding for ILIKE): what the embedded server gets
      // on Debian, whatever locale CI happens to have.
      await exec('initdb', [
        `--pgdata=${pgData}`,
        `--username=${SUPERUSER}`,
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C.UTF-8',
        '--no-sync',
      ]);
    } finally {
      await rm(passwordFile, { force: true });
    }
  }
  const serverFlags = [
    `-p ${options.port}`,
    '-c listen_addresses=127.0.0.1',
    '-c max_connections=200',
    // TCP only: Debian's default socket directory (/var/run/postgresql) may not exist or be ours.
    "-c unix_socket_directories=''",
  ].join(' ');
  if (!(await isReachable(url('postgres')))) {
    await exec('pg_ctl', ['start', '--wait', '--timeout=60', `--pgdata=${pgData}`, `--log=${join(pgData, 'server.log')}`, `--options=${serverFlags}`]);
  }
  await ensureDatabase(url('postgres'), options.database);
  return {
    url: url(options.database),
    async stop() {
      if (!existsSync(join(pgData, 'postmaster.pid'))) return;
      try {
        await exec('pg_ctl', ['stop', '--wait', '--timeout=30', '--mode=fast', `--pgdata=${pgData}`]);
      } catch (err) {
        // A server that has already gone (a stale pid file) is stopped; one still answering is not.
        if (await isReachable(url('postgres'))) throw err;
      }
    },
  };
}

/** `PostgreSQL 15.18 (Debian 15.18-0+deb12u1)`: the server's own words. */
export async function serverVersion(url: string): Promise<string> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ version: string }[]>`SELECT split_part(version(), ' on ', 1) AS version`;
    return row?.version ?? 'an unknown server';
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function systemUser(): Promise<{ uid: number; gid: number }> {
  const id = async (flag: string): Promise<number> => Number((await run('id', [flag, SYSTEM_USER])).stdout.trim());
  try {
    return { uid: await id('-u'), gid: await id('-g') };
  } catch {
    throw new Error(`TEST_PG_BIN as root needs the "${SYSTEM_USER}" system user (the distribution's PostgreSQL package creates it)`);
  }
}
