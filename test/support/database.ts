// A fresh database per test file on the shared test server, so files run in parallel without seeing
// each other's tenants. Roles are cluster-wide but named after random tenant ids, so they never clash.
import { randomBytes } from 'node:crypto';
import postgres, { type Sql } from 'postgres';
import { inject } from 'vitest';

export interface TestDatabase {
  readonly url: string;
  /** A superuser connection to this database, for inspecting what the gateway did. */
  readonly admin: Sql;
  drop(): Promise<void>;
}

export function superuserUrl(): string {
  return inject('adminUrl');
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `tg_${randomBytes(6).toString('hex')}`;
  const server = postgres(superuserUrl(), { max: 1, onnotice: () => {} });
  await server`CREATE DATABASE ${server(name)}`;
  const url = withDatabase(superuserUrl(), name);
  const admin = postgres(url, { max: 3, onnotice: () => {} });
  return {
    url,
    admin,
    async drop() {
      await admin.end({ timeout: 5 });
      await server`DROP DATABASE IF EXISTS ${server(name)} WITH (FORCE)`;
      await server.end({ timeout: 5 });
    },
  };
}

/** Polls `check` until it returns true or the deadline passes; no fixed sleeps in tests. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
