// postgres.js 3.4.9 as published loses queries when a backend dies under pipelined prepared statements
// (patches/postgres+3.4.9.patch, applied by `npm install`). Measured before the patch on this test's
// shapes: with max 1 and 4 callers every caller hung for good after the first termination; with max 3
// and 9 callers, 9 hung. Three defects, each fixed in the patch:
// - a write buffered when the socket closed left its timer set, so the next session's start-up message
//   was never flushed (every reconnect then timed out);
// - queries sent between the socket's 'error' and 'close' events were never rejected, and the next
//   session waited for their answers;
// - a query queued while the connection was busy was passed over by every newer one, for as long as
//   the connection never went idle.
// The gateway bounds each request's wait anyway, but a stuck shared-pool connection stayed stuck.
import postgres, { type Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/** Far above a 2 ms statement plus a 50 ms reconnect; a lost query waits for ever. */
const SETTLE_MS = 4000;

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

interface Outcome {
  readonly done: number;
  readonly failed: number;
  readonly unsettled: number;
  readonly doneAfterFaults: number;
}

async function hammer(max: number, callers: number, terminations: number): Promise<Outcome> {
  const app = `driver-reconnect-${max}-${callers}`;
  const sql: Sql = postgres(db.url, {
    max,
    fetch_types: false,
    backoff: () => 0.05,
    onnotice: () => {},
    connection: { application_name: app, statement_timeout: 5000 },
  });
  let done = 0;
  let failed = 0;
  let unsettled = 0;
  let faultsOver = false;
  let doneAfterFaults = 0;
  let stopping = false;
  const caller = async (): Promise<void> => {
    for (let i = 0; !stopping; i++) {
      const timer = setTimeout(() => unsettled++, SETTLE_MS);
      try {
        await sql.unsafe('SELECT $1::int AS n, pg_sleep(0.002)', [i], { prepare: true });
        done++;
        if (faultsOver) doneAfterFaults++;
      } catch {
        failed++;
      }
      clearTimeout(timer);
    }
  };
  const running = Array.from({ length: callers }, () => caller());
  for (let round = 0; round < terminations; round++) {
    await new Promise((r) => setTimeout(r, 300));
    await db.admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                   WHERE datname = current_database() AND application_name = ${app}`;
  }
  faultsOver = true;
  // Long enough for a lost query to be counted, and for the callers to show they still get answers.
  await new Promise((r) => setTimeout(r, SETTLE_MS + 500));
  stopping = true;
  await Promise.race([Promise.all(running), new Promise((r) => setTimeout(r, SETTLE_MS))]);
  await sql.end({ timeout: 1 });
  return { done, failed, unsettled, doneAfterFaults };
}

describe('postgres.js under backend terminations (patched driver)', () => {
  it('one connection with four pipelining callers: every query settles, and all callers go on', async () => {
    const o = await hammer(1, 4, 8);
    expect(o.unsettled, JSON.stringify(o)).toBe(0);
    expect(o.failed).toBeGreaterThan(0); // the terminations did hit queries in flight
    expect(o.doneAfterFaults).toBeGreaterThan(100);
  });

  it('three connections with nine callers: every query settles', async () => {
    const o = await hammer(3, 9, 8);
    expect(o.unsettled, JSON.stringify(o)).toBe(0);
    expect(o.doneAfterFaults).toBeGreaterThan(100);
  });
});
