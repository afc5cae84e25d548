// postgres.js keeps every statement it ever prepared on its connection, on both sides, for the
// connection's life. Schema tenants have statements of their own (their schema is in the text), so a
// shared connection serving thousands of them would hold thousands. Our patch of postgres.js
// (patches/postgres+3.4.9.patch) adds `max_prepared`: beyond it, the least recently used statement is
// closed on the server (a Close message written behind everything that may still use it). These tests
// drive that under pipelining and check answers and the server's own list of prepared statements.
import postgres, { type Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

const open = (maxPrepared: number | undefined): Sql =>
  postgres(db.url, {
    max: 1,
    fetch_types: false,
    onnotice: () => {},
    ...(maxPrepared === undefined ? {} : ({ max_prepared: maxPrepared } as Record<string, unknown>)),
  });

/** Statement `k`: its own text (as a tenant's own schema would make it), answering its inputs. */
const run = (sql: Sql, k: number, v: number): Promise<{ k: number; v: number }[]> =>
  sql.unsafe(`SELECT ${k}::int AS k, $1::int AS v`, [v], { prepare: true }) as unknown as Promise<{ k: number; v: number }[]>;

/** The statements the session has prepared, read without preparing one more. */
const preparedOnServer = async (sql: Sql): Promise<number> => {
  const [row] = await sql.unsafe('SELECT count(*)::int AS n FROM pg_prepared_statements');
  return row?.n as number;
};

describe('postgres.js max_prepared (our patch)', () => {
  it('keeps at most max_prepared statements on the server, answering every query right', async () => {
    const sql = open(5);
    try {
      // 40 texts, pipelined 16 at a time, each used several times: evictions happen while statements
      // that are about to be closed are still queued for use.
      for (let round = 0; round < 4; round++) {
        const calls = Array.from({ length: 40 }, (_, i) => {
          const k = (i * 7 + round) % 40;
          return run(sql, k, i + round * 100).then((rows) => ({ rows, k, v: i + round * 100 }));
        });
        for (const { rows, k, v } of await Promise.all(calls)) expect(rows).toEqual([{ k, v }]);
      }
      expect(await preparedOnServer(sql)).toBeLessThanOrEqual(5);
      // Still correct afterwards, evicted statements prepared again.
      for (let k = 0; k < 40; k++) expect(await run(sql, k, k)).toEqual([{ k, v: k }]);
      expect(await preparedOnServer(sql)).toBeLessThanOrEqual(5);
    } finally {
      await sql.end();
    }
  });

  it('keeps the most recently used statements prepared (no Parse for them)', async () => {
    const sql = open(3);
    try {
      await run(sql, 1, 1);
      await run(sql, 2, 2);
      await run(sql, 3, 3);
      await run(sql, 1, 1); // 1 is now the most recent: 2 is the least recently used
      await run(sql, 4, 4); // evicts 2
      const [row] = await sql.unsafe(
        "SELECT array_agg(k ORDER BY k)::text AS ks FROM (SELECT substring(statement from 'SELECT ([0-9]+)::int')::int AS k FROM pg_prepared_statements) AS p",
      );
      expect(row?.ks).toBe('{1,3,4}');
    } finally {
      await sql.end();
    }
  });

  it('without the option, every statement stays prepared (what the bound is for)', async () => {
    const sql = open(undefined);
    try {
      for (let k = 0; k < 20; k++) await run(sql, k, k);
      expect(await preparedOnServer(sql)).toBe(20);
    } finally {
      await sql.end();
    }
  });

  it('a statement that fails does not upset the closes around it', async () => {
    const sql = open(2);
    try {
      const calls = Array.from({ length: 30 }, (_, i) =>
        i % 5 === 0
          ? sql.unsafe(`SELECT ${i}::int / $1::int AS k`, [0], { prepare: true }).then(
              () => 'answered',
              (e: { code?: string }) => e.code,
            )
          : run(sql, i, i).then((rows) => (rows[0]?.k === i && rows[0]?.v === i ? 'right' : 'wrong')),
      );
      const outcomes = await Promise.all(calls);
      expect(outcomes.filter((o) => o === '22012')).toHaveLength(6);
      expect(outcomes.filter((o) => o === 'right')).toHaveLength(24);
      expect(await preparedOnServer(sql)).toBeLessThanOrEqual(2);
    } finally {
      await sql.end();
    }
  });
});
