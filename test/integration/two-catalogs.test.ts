// Two tenantgate catalogs on one PostgreSQL server, each database owned by its own role. The base roles
// tenant roles join (tenantgate_tenant, tenantgate_schema_tenant) are server-wide; on PostgreSQL 16+ a
// second owner cannot grant them, and its migrations used to "succeed" while every tenant creation then
// failed with a 500 ("permission denied to grant role"). Now the migrations stop with one clear message
// naming the role and the fix, and once a superuser applies that fix the second catalog works.
import { randomBytes } from 'node:crypto';
import postgres, { type Sql } from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, superuserUrl, withDatabase, type TestDatabase } from '../support/database.js';
import { runCli } from '../support/processes.js';

const RUN_TIMEOUT_MS = 60_000;

let first: TestDatabase;
let server: Sql;
let serverVersion = 0;
const owner = `tg_owner_${randomBytes(4).toString('hex')}`;
const ownerPassword = randomBytes(12).toString('hex');
const secondDb = `tg_second_${randomBytes(4).toString('hex')}`;
const credentialsKey = randomBytes(32).toString('hex');
const adminJwtSecret = randomBytes(32).toString('base64url');

function catalogEnv(databaseUrl: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: databaseUrl, CREDENTIALS_KEY: credentialsKey, ADMIN_JWT_SECRET: adminJwtSecret };
  delete env.CREDENTIALS_KEYS;
  return env;
}

function secondUrl(): string {
  const url = new URL(withDatabase(superuserUrl(), secondDb));
  url.username = owner;
  url.password = ownerPassword;
  return url.toString();
}

beforeAll(async () => {
  server = postgres(superuserUrl(), { max: 1, onnotice: () => {} });
  const [row] = await server<{ v: number }[]>`SELECT current_setting('server_version_num')::int AS v`;
  serverVersion = row?.v ?? 0;
  // The first catalog, migrated by the superuser as the test server's other catalogs are: it (or one of
  // them) created the server-wide base roles.
  first = await createTestDatabase();
  // The second: its own database and owning role, a catalog owner as README describes (CREATEROLE).
  await server.unsafe(`CREATE ROLE ${owner} LOGIN CREATEROLE PASSWORD '${ownerPassword}'`);
  await server.unsafe(`CREATE DATABASE ${secondDb} OWNER ${owner}`);
});

afterAll(async () => {
  await first?.drop();
  if (!server) return;
  // Tenant roles the second catalog created, then its database and owner.
  const second = postgres(withDatabase(superuserUrl(), secondDb), { max: 1, onnotice: () => {} });
  const tenants = await second<{ db_user: string }[]>`SELECT db_user FROM tenants`.catch(() => []);
  await second.end({ timeout: 5 });
  await server`DROP DATABASE IF EXISTS ${server(secondDb)} WITH (FORCE)`;
  for (const { db_user } of tenants) await server`DROP ROLE IF EXISTS ${server(db_user)}`.catch(() => undefined);
  await server`DROP ROLE IF EXISTS ${server(owner)}`.catch(() => undefined);
  await server.end({ timeout: 5 });
});

it(
  'a second catalog whose owner cannot grant the base roles stops at migration with the fix, and works once it is applied',
  { timeout: 180_000 },
  async (ctx) => {
    if (serverVersion < 160_000) {
      ctx.skip(true, `PostgreSQL ${serverVersion}: before 16, CREATEROLE may grant any role, so the conflict cannot arise`);
      return;
    }
    const firstTenant = await runCli(['tenant', 'create', 'first-catalog-tenant'], catalogEnv(first.url), RUN_TIMEOUT_MS);
    expect(firstTenant.code, firstTenant.stderr).toBe(0);

    const refused = await runCli(['tenant', 'create', 'second-catalog-tenant'], catalogEnv(secondUrl()), RUN_TIMEOUT_MS);
    expect(refused.code).toBe(1);
    const lines = refused.stderr.trim().split('\n');
    expect(lines, refused.stderr).toHaveLength(1);
    expect(lines[0]).toContain(`the catalog owner ${owner} cannot grant the server-wide role tenantgate_tenant`);
    expect(lines[0]).toContain(`creating a tenant in database ${secondDb} would fail`);
    expect(lines[0]).toContain(`GRANT tenantgate_tenant TO "${owner}" WITH ADMIN OPTION`);
    expect(refused.stderr).not.toContain(ownerPassword);
    expect(refused.stderr).not.toContain('permission denied to grant role');

    // The fix the message names, for both base roles (the second message names the other one).
    const again = await runCli(['tenant', 'list'], catalogEnv(secondUrl()), RUN_TIMEOUT_MS);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('tenantgate_tenant');
    await server.unsafe(`GRANT tenantgate_tenant TO "${owner}" WITH ADMIN OPTION`);
    const schemaRole = await runCli(['tenant', 'list'], catalogEnv(secondUrl()), RUN_TIMEOUT_MS);
    expect(schemaRole.code).toBe(1);
    expect(schemaRole.stderr).toContain(`GRANT tenantgate_schema_tenant TO "${owner}" WITH ADMIN OPTION`);
    await server.unsafe(`GRANT tenantgate_schema_tenant TO "${owner}" WITH ADMIN OPTION`);

    for (const model of ['rls', 'schema']) {
      const created = await runCli(['tenant', 'create', `second-${model}`, '--model', model], catalogEnv(secondUrl()), RUN_TIMEOUT_MS);
      expect(created.code, created.stderr).toBe(0);
    }
    const listed = await runCli(['tenant', 'list'], catalogEnv(secondUrl()), RUN_TIMEOUT_MS);
    expect(listed.code, listed.stderr).toBe(0);
    const names = (JSON.parse(listed.stdout) as { records: { name: string }[] }).records.map((t) => t.name);
    expect(names.sort()).toEqual(['second-rls', 'second-schema']);
  },
);
