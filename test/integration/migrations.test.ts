import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres, { type Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMigrations, migrate } from '../../src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const databases: TestDatabase[] = [];
const connections: Sql[] = [];

async function freshDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  databases.push(db);
  return db;
}

function connect(url: string): Sql {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  connections.push(sql);
  return sql;
}

afterAll(async () => {
  await Promise.all(connections.map((sql) => sql.end({ timeout: 5 })));
  await Promise.all(databases.map((db) => db.drop()));
});

async function recorded(sql: Sql): Promise<{ version: number; name: string; applied_at: Date }[]> {
  return sql`SELECT version, name, applied_at FROM schema_migrations ORDER BY version`;
}

describe('migrate() on a fresh database', () => {
  let db: TestDatabase;
  let sql: Sql;
  let firstRun: number[];

  beforeAll(async () => {
    db = await freshDatabase();
    sql = connect(db.url);
    firstRun = await migrate(sql);
  });

  it('applies every file in sql/ in version order and records each version and name', async () => {
    const migrations = await listMigrations();
    expect(migrations.length).toBeGreaterThan(0);
    const versions = migrations.map((m) => m.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(firstRun).toEqual(versions);
    const rows = await recorded(db.admin);
    expect(rows.map(({ version, name }) => ({ version, name }))).toEqual(migrations.map(({ version, name }) => ({ version, name })));
    const [tenants] = await db.admin`SELECT to_regclass('public.tenants') AS t, to_regclass('public.users') AS u`;
    expect(tenants).toEqual({ t: 'tenants', u: 'users' });
  });

  it('applies nothing on a second run and leaves schema_migrations unchanged', async () => {
    const before = await recorded(db.admin);
    expect(await migrate(sql)).toEqual([]);
    expect(await recorded(db.admin)).toEqual(before);
  });

  it('enables and forces row-level security on users', async () => {
    const [row] = await db.admin`
      SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'public.users'::regclass`;
    expect(row).toEqual({ relrowsecurity: true, relforcerowsecurity: true });
  });

  it('creates the tenant base role tenantgate_tenant without login', async () => {
    const rows = await db.admin`
      SELECT rolcanlogin, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'tenantgate_tenant'`;
    expect(rows).toEqual([{ rolcanlogin: false, rolsuper: false, rolbypassrls: false }]);
  });
});

describe('privileges left to PUBLIC', () => {
  it('a new plain login role can neither create in schema public nor create temporary tables', async () => {
    const db = await freshDatabase();
    const role = `tg_probe_${randomBytes(5).toString('hex')}`;
    const password = randomBytes(18).toString('base64url');
    // Utility statements take no parameters; both values are generated here from [0-9a-zA-Z_-].
    await db.admin.unsafe(`CREATE ROLE "${role}" LOGIN PASSWORD '${password}'`);
    try {
      const privileges = (): Promise<{ create: boolean; temp: boolean }[]> => db.admin`
        SELECT has_schema_privilege(${role}, 'public', 'CREATE') AS create,
               has_database_privilege(${role}, current_database(), 'TEMP') AS temp`;
      // The control: PostgreSQL grants TEMP to PUBLIC by default, so this test fails without the migration.
      expect((await privileges())[0]?.temp).toBe(true);

      await migrate(connect(db.url));
      expect(await privileges()).toEqual([{ create: false, temp: false }]);

      const url = new URL(db.url);
      url.username = role;
      url.password = password;
      const probe = connect(url.toString());
      await expect(probe`CREATE TEMP TABLE probe (x int)`).rejects.toMatchObject({ code: '42501' });
      await expect(probe`CREATE TABLE public.probe (x int)`).rejects.toMatchObject({ code: '42501' });
      await probe.end({ timeout: 5 });
    } finally {
      await db.admin.unsafe(`DROP ROLE IF EXISTS "${role}"`);
    }
  });
});

describe('concurrent migrate()', () => {
  it('two runners on two connections both succeed and apply the schema once', async () => {
    const db = await freshDatabase();
    const versions = (await listMigrations()).map((m) => m.version);
    const first = connect(db.url);
    const second = connect(db.url);
    // Connect both first, so the two runners start together rather than one connection set-up apart.
    await Promise.all([first`SELECT 1`, second`SELECT 1`]);
    const [a, b] = await Promise.allSettled([migrate(first), migrate(second)]);
    expect(a.status, a.status === 'rejected' ? String(a.reason) : '').toBe('fulfilled');
    expect(b.status, b.status === 'rejected' ? String(b.reason) : '').toBe('fulfilled');
    const applied = [a, b].flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    expect(applied.sort((x, y) => x - y)).toEqual(versions);
    expect((await recorded(db.admin)).map((r) => r.version)).toEqual(versions);
  });
});

describe('migrate() with a migrations directory', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tenantgate-migrations-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs files by version, each building on the one before', async () => {
    // Written out of order; each needs its predecessor's table.
    await writeFile(join(dir, '003_third.sql'), 'CREATE TABLE c (id int REFERENCES b (id));');
    await writeFile(join(dir, '001_first.sql'), 'CREATE TABLE a (id int PRIMARY KEY);');
    await writeFile(join(dir, '002_second.sql'), 'CREATE TABLE b (id int PRIMARY KEY REFERENCES a (id)); INSERT INTO a VALUES (1);');
    const db = await freshDatabase();
    expect(await migrate(connect(db.url), dir)).toEqual([1, 2, 3]);
    expect((await recorded(db.admin)).map((r) => [r.version, r.name])).toEqual([
      [1, 'first'],
      [2, 'second'],
      [3, 'third'],
    ]);
  });

  it('rolls back a failing file and does not record it', async () => {
    const failing = await mkdtemp(join(tmpdir(), 'tenantgate-migrations-'));
    try {
      await writeFile(join(failing, '001_ok.sql'), 'CREATE TABLE ok (id int);');
      await writeFile(join(failing, '002_broken.sql'), 'CREATE TABLE half (id int); SELECT no_such_function();');
      const db = await freshDatabase();
      await expect(migrate(connect(db.url), failing)).rejects.toMatchObject({ code: '42883' });
      expect((await recorded(db.admin)).map((r) => r.version)).toEqual([1]);
      const [row] = await db.admin`SELECT to_regclass('public.ok') AS ok, to_regclass('public.half') AS half`;
      expect(row).toEqual({ ok: 'ok', half: null });
    } finally {
      await rm(failing, { recursive: true, force: true });
    }
  });
});
