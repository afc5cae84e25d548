// A reproduction, not part of the soak run: postgres.js 3.4 can leave queries unanswered for ever after
// a backend is terminated, when statements are pipelined on a connection and prepared. Run:
//   npx tsx soak/driver-stuck.ts              # one instance of max 1 (the shared pool's shape), 4 in flight
//   MAX=3 WORKERS=9 npx tsx soak/driver-stuck.ts   # a dedicated pool's shape
//   PREPARE=0 npx tsx soak/driver-stuck.ts    # the same without prepared statements: none stuck
// Measured on 2026-12-01 (embedded PostgreSQL 18): max 1 with 2 or 4 in flight: every worker stuck
// after the first termination (558 queries done in 19 s); max 3 with 9 in flight: 9 stuck; max 3 with 3
// in flight, or unprepared: none. The gateway bounds the wait (503 database_timeout at CONNECT_TIMEOUT +
// QUERY_TIMEOUT, and a dedicated pool is dropped then), but a stuck shared-pool connection stays stuck.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { freePort } from './ports.js';

const max = Number(process.env.MAX ?? 1);
const workers = Number(process.env.WORKERS ?? 4);
const prepare = process.env.PREPARE !== '0';
const STUCK_MS = 4000;

const dir = await mkdtemp(join(tmpdir(), 'tenantgate-driver-stuck-'));
await chmod(dir, 0o755);
const server = await startEmbeddedPostgres({ dataDir: dir, port: await freePort(), superuserPassword: 'repro', database: 'repro' });
const admin = postgres(server.url, { max: 1, onnotice: () => {} });
const sql = postgres(server.url, {
  max,
  fetch_types: false,
  backoff: () => 0.2,
  onnotice: () => {},
  connection: { application_name: 'driver-stuck', statement_timeout: 5000 },
});
let done = 0;
let failed = 0;
let stuck = 0;
let stopping = false;
const worker = async (): Promise<void> => {
  for (let i = 0; !stopping; i++) {
    const timer = setTimeout(() => stuck++, STUCK_MS);
    try {
      await sql.unsafe('SELECT $1::int AS n, pg_sleep(0.002)', [i], { prepare });
      done++;
    } catch {
      failed++;
    }
    clearTimeout(timer);
  }
};
for (let w = 0; w < workers; w++) void worker();
for (let round = 0; round < 20; round++) {
  await new Promise((r) => setTimeout(r, 700));
  await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'driver-stuck'`;
}
await new Promise((r) => setTimeout(r, STUCK_MS + 1000));
console.log(JSON.stringify({ max, workers, prepare, done, failed, stuck }));
stopping = true;
await admin.end({ timeout: 1 });
await server.stop();
await rm(dir, { recursive: true, force: true });
process.exit(stuck > 0 ? 1 : 0);
