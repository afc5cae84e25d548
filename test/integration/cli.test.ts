import { randomBytes, randomUUID } from 'node:crypto';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { runCli, type RunResult } from '../support/processes.js';

const RUN_TIMEOUT_MS = 30_000;
const ROLE_NAME = /^t_[0-9a-f]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let db: TestDatabase;
let credentialsKey: string;
let adminJwtSecret: string;

function cliEnv(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, DATABASE_URL: db.url, CREDENTIALS_KEY: credentialsKey, ADMIN_JWT_SECRET: adminJwtSecret, ...overrides };
}

const cli = (args: string[], env: NodeJS.ProcessEnv = cliEnv()): Promise<RunResult> => runCli(args, env, RUN_TIMEOUT_MS);

async function createTenant(name: string): Promise<{ id: string; name: string; db_user: string }> {
  const result = await cli(['tenant', 'create', name]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as { id: string; name: string; db_user: string };
}

function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

beforeAll(async () => {
  db = await createTestDatabase();
  credentialsKey = randomBytes(32).toString('hex');
  adminJwtSecret = randomBytes(32).toString('base64url');
});

afterAll(async () => {
  await db?.drop();
});

describe('tenant commands', () => {
  it('tenant create prints the new tenant as JSON without any password', async () => {
    const result = await cli(['tenant', 'create', 'acme']);
    expect(result.code, result.stderr).toBe(0);
    const tenant = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(tenant).toMatchObject({ name: 'acme', status: 'active' });
    expect(tenant.id).toMatch(UUID);
    expect(tenant.db_user).toMatch(ROLE_NAME);
    expect(result.stdout.toLowerCase()).not.toContain('password');
    const [row] = await db.admin<{ db_user: string; db_password_encrypted: string }[]>`
      SELECT db_user, db_password_encrypted FROM tenants WHERE id = ${tenant.id as string}`;
    expect(row?.db_user).toBe(tenant.db_user);
    expect(result.stdout).not.toContain(row?.db_password_encrypted);
    const roles = await db.admin`SELECT rolcanlogin FROM pg_roles WHERE rolname = ${tenant.db_user as string}`;
    expect(roles).toEqual([{ rolcanlogin: true }]);
  });

  it('tenant list includes a created tenant', async () => {
    const created = await createTenant(uniqueName('listed'));
    const result = await cli(['tenant', 'list', '--page-size', '1000']);
    expect(result.code, result.stderr).toBe(0);
    const page = JSON.parse(result.stdout) as { records: { id: string; name: string }[]; total: number };
    expect(page.records).toContainEqual(expect.objectContaining({ id: created.id, name: created.name, db_user: created.db_user }));
    expect(page.total).toBe(page.records.length);
    expect(result.stdout.toLowerCase()).not.toContain('password');
  });

  it('tenant rotate replaces the stored ciphertext and the role password', async () => {
    const tenant = await createTenant(uniqueName('rotated'));
    const stored = async (): Promise<{ sealed: string; verifier: string }> => {
      const [row] = await db.admin<{ sealed: string; verifier: string }[]>`
        SELECT t.db_password_encrypted AS sealed, a.rolpassword AS verifier
        FROM tenants t JOIN pg_authid a ON a.rolname = t.db_user WHERE t.id = ${tenant.id}`;
      if (!row) throw new Error('tenant or role missing');
      return row;
    };
    const before = await stored();
    const result = await cli(['tenant', 'rotate', tenant.id]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ id: tenant.id });
    const after = await stored();
    expect(after.sealed).not.toBe(before.sealed);
    expect(after.verifier).not.toBe(before.verifier);
    expect(after.verifier).toMatch(/^SCRAM-SHA-256\$/);
  });

  it('tenant delete removes the catalog row and the role', async () => {
    const tenant = await createTenant(uniqueName('deleted'));
    const result = await cli(['tenant', 'delete', tenant.id]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ id: tenant.id, deleted: true });
    expect(await db.admin`SELECT 1 FROM tenants WHERE id = ${tenant.id}`).toHaveLength(0);
    expect(await db.admin`SELECT 1 FROM pg_roles WHERE rolname = ${tenant.db_user}`).toHaveLength(0);
  });

  it.each([['rotate'], ['delete']])('tenant %s of an unknown id exits 1 with tenant_not_found', async (command) => {
    const result = await cli(['tenant', command, randomUUID()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('tenant_not_found');
    expect(result.stdout).toBe('');
  });
});

describe('a tenant by name wherever an id is taken', () => {
  it('tenant get, suspend, limit, resume, rotate and delete accept the name', async () => {
    const tenant = await createTenant(uniqueName('named'));
    const got = await cli(['tenant', 'get', tenant.name]);
    expect(got.code, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({ id: tenant.id, name: tenant.name });
    const byId = await cli(['tenant', 'get', tenant.id]);
    expect(JSON.parse(byId.stdout)).toEqual(JSON.parse(got.stdout));

    const suspended = await cli(['tenant', 'suspend', tenant.name]);
    expect(suspended.code, suspended.stderr).toBe(0);
    expect(JSON.parse(suspended.stdout)).toEqual({ id: tenant.id, status: 'suspended' });
    expect((await cli(['tenant', 'limit', tenant.name, '--rps', '7'])).code).toBe(0);
    expect(await db.admin`SELECT status, rate_limit_rps FROM tenants WHERE id = ${tenant.id}`).toEqual([{ status: 'suspended', rate_limit_rps: 7 }]);
    expect((await cli(['tenant', 'resume', tenant.name])).code).toBe(0);
    const rotated = await cli(['tenant', 'rotate', tenant.name]);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(JSON.parse(rotated.stdout)).toMatchObject({ id: tenant.id });
    const deleted = await cli(['tenant', 'delete', tenant.name]);
    expect(JSON.parse(deleted.stdout)).toEqual({ id: tenant.id, deleted: true });
    expect(await db.admin`SELECT 1 FROM tenants WHERE id = ${tenant.id}`).toHaveLength(0);
  });

  it('an unknown name exits 1 with tenant_not_found', async () => {
    const result = await cli(['tenant', 'rotate', uniqueName('nobody')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('tenant_not_found');
    expect(result.stdout).toBe('');
  });

  it('tenant list takes --search, --status and --sort-column/--sort-direction', async () => {
    const prefix = uniqueName('listq');
    const first = await createTenant(`${prefix}-b`);
    const second = await createTenant(`${prefix}-a`);
    expect((await cli(['tenant', 'suspend', first.id])).code).toBe(0);
    const all = await cli(['tenant', 'list', '--search', prefix.toUpperCase(), '--sort-column', 'name', '--sort-direction', 'descending']);
    expect(all.code, all.stderr).toBe(0);
    expect((JSON.parse(all.stdout) as { records: { id: string }[] }).records.map((t) => t.id)).toEqual([first.id, second.id]);
    const active = await cli(['tenant', 'list', '--search', prefix, '--status', 'active']);
    expect(JSON.parse(active.stdout)).toMatchObject({ total: 1, records: [{ id: second.id }] });
  });
});

describe('usage errors', () => {
  it.each([
    [[]],
    [['tenant', 'bogus']],
    [['tenant', 'rotate']],
    [['tenant', 'list', '--status', 'gone']],
    [['tenant', 'list', '--sort-column', 'db_password_encrypted']],
    [['tenant', 'delete']],
    [['tenant', 'create']],
    [['tenant', 'list', '--page-size', 'abc']],
    [['token', 'admin', '--ttl', '0']],
  ])('cli %j exits 2 and prints the usage text', async (args) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('usage: npm run cli -- <command>');
    expect(result.stderr).toContain('tenant create <name>');
    expect(result.stdout).toBe('');
  });
});

describe('token admin', () => {
  async function verifiedToken(args: string[]): Promise<{ role: unknown; exp: number; now: number }> {
    const result = await cli(['token', 'admin', ...args]);
    expect(result.code, result.stderr).toBe(0);
    const now = Math.floor(Date.now() / 1000);
    // Only the token, so `TOKEN=$(npm run -s cli -- token admin)` captures it.
    expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const { payload, protectedHeader } = await jwtVerify(result.stdout.trim(), new TextEncoder().encode(adminJwtSecret), {
      algorithms: ['HS256'],
    });
    expect(protectedHeader.alg).toBe('HS256');
    if (typeof payload.exp !== 'number') throw new Error('token has no exp');
    return { role: payload.role, exp: payload.exp, now };
  }

  it('prints only a JWT signed with ADMIN_JWT_SECRET, role admin, expiring in an hour', async () => {
    const { role, exp, now } = await verifiedToken([]);
    expect(role).toBe('admin');
    expect(Math.abs(exp - now - 3600)).toBeLessThanOrEqual(30);
  });

  it('--ttl 60 gives a token expiring in a minute', async () => {
    const { role, exp, now } = await verifiedToken(['--ttl', '60']);
    expect(role).toBe('admin');
    expect(Math.abs(exp - now - 60)).toBeLessThanOrEqual(30);
  });

  it('the token does not verify under another secret', async () => {
    const result = await cli(['token', 'admin']);
    expect(result.code, result.stderr).toBe(0);
    const other = new TextEncoder().encode(randomBytes(32).toString('base64url'));
    await expect(jwtVerify(result.stdout.trim(), other, { algorithms: ['HS256'] })).rejects.toThrow();
  });
});

describe('migrate', () => {
  it('creates the schema on a fresh database and is idempotent', async () => {
    const fresh = await createTestDatabase();
    try {
      const env = cliEnv({ DATABASE_URL: fresh.url });
      const tenantsTable = async (): Promise<unknown> => (await fresh.admin`SELECT to_regclass('public.tenants') AS t`)[0]?.t;
      expect(await tenantsTable()).toBeNull();

      const first = await cli(['migrate'], env);
      expect(first.code, first.stderr).toBe(0);
      expect(await tenantsTable()).toBe('tenants');
      const recorded = await fresh.admin`SELECT version, name, applied_at FROM schema_migrations ORDER BY version`;
      expect(recorded.length).toBeGreaterThan(0);

      const second = await cli(['migrate'], env);
      expect(second.code, second.stderr).toBe(0);
      expect(await fresh.admin`SELECT version, name, applied_at FROM schema_migrations ORDER BY version`).toEqual(recorded);
    } finally {
      await fresh.drop();
    }
  });
});

describe('schema tenants', () => {
  it('tenant create --model schema makes a schema tenant; a bad model exits non-zero naming model', async () => {
    const result = await cli(['tenant', 'create', uniqueName('cli-schema'), '--model', 'schema']);
    expect(result.code, result.stderr).toBe(0);
    const tenant = JSON.parse(result.stdout) as { id: string; db_user: string; model: string };
    expect(tenant.model).toBe('schema');
    const [row] = await db.admin`SELECT to_regclass(${`s_${tenant.db_user.slice(2)}.users`})::text AS t`;
    expect(row?.t).toBe(`s_${tenant.db_user.slice(2)}.users`);
    const bad = await cli(['tenant', 'create', uniqueName('cli-bad'), '--model', 'citus']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('model');
  });

  it('tenant create --model database makes a database tenant, migrate reaches its database, tenant delete drops it', async () => {
    const result = await cli(['tenant', 'create', uniqueName('cli-database'), '--model', 'database']);
    expect(result.code, result.stderr).toBe(0);
    const tenant = JSON.parse(result.stdout) as { id: string; db_user: string; model: string };
    expect(tenant.model).toBe('database');
    const database = `d_${tenant.db_user.slice(2)}`;
    expect(await db.admin`SELECT 1 AS x FROM pg_database WHERE datname = ${database}`).toEqual([{ x: 1 }]);
    // The catalog behind its database (a run that died between the two): migrate connects to the
    // database, finds every migration in its ledger, and the catalog catches up.
    const [{ latest } = { latest: 0 }] = await db.admin<{ latest: number }[]>`SELECT data_version AS latest FROM tenants WHERE id = ${tenant.id}`;
    await db.admin`UPDATE tenants SET data_version = 1 WHERE id = ${tenant.id}`;
    const migrated = await cli(['migrate']);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(await db.admin`SELECT data_version FROM tenants WHERE id = ${tenant.id}`).toEqual([{ data_version: latest }]);
    const deleted = await cli(['tenant', 'delete', tenant.id]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(await db.admin`SELECT 1 FROM pg_database WHERE datname = ${database}`).toEqual([]);
    expect(await db.admin`SELECT 1 FROM pg_roles WHERE rolname = ${tenant.db_user}`).toEqual([]);
  });

  it('migrate brings a schema behind up to date and migrate status reports versions and failures', async () => {
    const created = JSON.parse((await cli(['tenant', 'create', uniqueName('cli-behind'), '--model', 'schema'])).stdout) as { id: string; name: string };
    // One tenant behind and marked failed, as an interrupted or failed run leaves it.
    await db.admin`UPDATE tenants SET data_version = 0, data_failure = 'version 1 (users): test' WHERE id = ${created.id}`;
    const before = await cli(['migrate', 'status']);
    expect(before.code, before.stderr).toBe(0);
    const status = JSON.parse(before.stdout) as { latest: number; behind: number; failed: { tenantId: string }[] };
    expect(status.behind).toBe(1);
    expect(status.failed.map((f) => f.tenantId)).toEqual([created.id]);
    // Version 1 creates the users table, which exists: the rerun of it fails, is reported, exits 1.
    const run = await cli(['migrate', '--concurrency', '2']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ tenants: { behind: 1, migrated: 0, failed: [{ tenantId: created.id, version: 1 }] } });
    // Put right by hand (the ledger says where the schema really is): nothing left to do.
    await db.admin`UPDATE tenants SET data_version = ${status.latest}, data_failure = NULL WHERE id = ${created.id}`;
    const after = await cli(['migrate']);
    expect(after.code, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ tenants: { behind: 0, migrated: 0, failed: [] } });
    expect(JSON.parse((await cli(['migrate', 'status'])).stdout)).toMatchObject({ behind: 0, failed: [] });
  });
});

describe('configuration errors', () => {
  it('an invalid CREDENTIALS_KEY exits non-zero naming the variable, not its value', async () => {
    for (const value of ['xyz', `${credentialsKey.slice(0, 63)}`]) {
      const result = await cli(['tenant', 'list'], cliEnv({ CREDENTIALS_KEY: value }));
      expect(result.code).not.toBe(0);
      expect(result.code).not.toBeNull();
      expect(result.stderr).toContain('CREDENTIALS_KEY');
      expect(result.stderr).not.toContain(value);
      expect(result.stdout).toBe('');
    }
  });
});
