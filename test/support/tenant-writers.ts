// Concurrent writers of one tenant, logged in as the tenant's own role, keeping the state of every
// write the database acknowledged. A write refused with TG002 (the tenant is fenced for a move) waits for
// the switch and is sent again to the target, as the gateway does. Each writer owns its own rows, so the
// acknowledged state is exact. No vitest hooks here.
import { randomUUID } from 'node:crypto';
import type { Sql } from 'postgres';
import type { TenantTables } from '../../src/db/tenant-tables.js';

export interface WriterOptions {
  readonly tenantId: string;
  readonly tables: TenantTables;
  readonly writers: number;
  /** Existing users (id -> first_name), shared out among the writers to update and delete. */
  readonly seeded: ReadonlyMap<string, string>;
  /** A new connection as the tenant's role, to where it is served before and after the switch. */
  readonly connect: (where: 'source' | 'target') => Sql;
  /** Resolves when the placement has switched; writers then write to the target. */
  readonly switched?: Promise<void>;
  readonly pauseMs?: number;
}

export interface WriteLoad {
  /** Every user as the last acknowledged write left it. */
  readonly expected: Map<string, string>;
  readonly keys: Set<string>;
  readonly stats: { ops: number; fenced: number; onTarget: number };
  /** The first write that failed (its writer stopped there), if any. */
  failure(): unknown;
  stop(): Promise<void>;
}

const TENANT_MOVING = 'TG002';

export function startWriters(options: WriterOptions): WriteLoad {
  const expected = new Map(options.seeded);
  const keys = new Set<string>();
  const stats = { ops: 0, fenced: 0, onTarget: 0 };
  let stopped = false;
  let switched = false;
  let failure: unknown;
  void options.switched?.then(() => (switched = true));
  const seededIds = [...options.seeded.keys()];

  const writer = async (index: number): Promise<void> => {
    const source = options.connect('source');
    let target: Sql | undefined;
    const mine = seededIds.filter((_, i) => i % options.writers === index);
    let n = 0;
    const exec = async <T>(work: (sql: Sql) => Promise<T>): Promise<T> => {
      for (;;) {
        const onTarget = switched;
        const sql = onTarget ? (target ??= options.connect('target')) : source;
        try {
          const result = await work(sql);
          if (onTarget) stats.onTarget++;
          return result;
        } catch (err) {
          if ((err as { code?: unknown }).code !== TENANT_MOVING || !options.switched) throw err;
          stats.fenced++;
          await options.switched;
        }
      }
    };
    const users = (sql: Sql) => sql.unsafe(options.tables.users);
    try {
      while (!stopped) {
        const roll = Math.random();
        const name = `w${index}-${n++}`;
        if (roll < 0.4 || mine.length === 0) {
          const id = randomUUID();
          await exec((sql) => sql`INSERT INTO ${users(sql)} (id, first_name, last_name) VALUES (${id}, ${name}, 'writer')`);
          mine.push(id);
          expected.set(id, name);
        } else if (roll < 0.75) {
          const id = mine[Math.floor(Math.random() * mine.length)] as string;
          const rows = await exec((sql) => sql`UPDATE ${users(sql)} SET first_name = ${name} WHERE id = ${id} RETURNING id`);
          if (rows.length !== 1) throw new Error(`update of ${id} touched ${rows.length} rows`);
          expected.set(id, name);
        } else if (roll < 0.9) {
          const id = mine.splice(Math.floor(Math.random() * mine.length), 1)[0] as string;
          const rows = await exec((sql) => sql`DELETE FROM ${users(sql)} WHERE id = ${id} RETURNING id`);
          if (rows.length !== 1) throw new Error(`delete of ${id} touched ${rows.length} rows`);
          expected.delete(id);
        } else {
          const key = `k-${name}-${randomUUID()}`;
          await exec(
            (sql) => sql`
              INSERT INTO ${sql.unsafe(options.tables.idempotency_keys)} (tenant_id, key, fingerprint, status, response, expires_at)
              VALUES (${options.tenantId}, ${key}, 'fp', 201, '{"written": true}', now() + interval '1 day')`,
          );
          keys.add(key);
        }
        stats.ops++;
        await new Promise((r) => setTimeout(r, options.pauseMs ?? 5));
      }
    } catch (err) {
      failure ??= err;
      throw err;
    } finally {
      await Promise.all([source.end({ timeout: 5 }), target?.end({ timeout: 5 })]);
    }
  };

  const running = Array.from({ length: options.writers }, (_, i) => writer(i));
  // Reported by stop(); marked handled now so a writer failing early is not an unhandled rejection.
  const all = Promise.all(running);
  all.catch(() => undefined);
  return {
    expected,
    keys,
    stats,
    failure: () => failure,
    async stop() {
      stopped = true;
      await all;
    },
  };
}
