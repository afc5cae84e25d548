// Tenant-data migrations across schema tenants (src/db/tenant-migrations.ts): every schema brought to
// the latest version with bounded parallelism, a failing tenant recorded while the others go on, a
// canary that stops the run, an interrupted run that resumes from the ledger, and `migrate status`.
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadTenantMigrations,
  migrateTenantSchemas,
  tenantMigrationStatus,
  TENANT_MIGRATIONS_DIR,
  type TenantMigrations,
} from '../../src/db/tenant-migrations.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let dir: string;
let v2: TenantMigrations;
/** The shipped version (the highest in sql/tenant/), and the test's own next one above it. */
let shipped: number;
let next: number;
const tenants: { id: string; db_user: string }[] = [];
const schemaOf = (t: { db_user: string }): string => `s_${t.db_user.slice(2)}`;

const columnExists = async (t: { db_user: string }): Promise<boolean> => {
  const [row] = await gw.db.admin`
    SELECT count(*)::int AS n FROM information_schema.columns
    WHERE table_schema = ${schemaOf(t)} AND table_name = 'users' AND column_name = 'nickname'`;
  return row?.n === 1;
};

const versions = async (): Promise<number[]> => {
  const rows = await gw.db.admin<{ data_version: number }[]>`
    SELECT data_version FROM tenants WHERE id = ANY(${tenants.map((t) => t.id)}::uuid[]) ORDER BY created_at, id`;
  return rows.map((r) => r.data_version);
};

beforeAll(async () => {
  gw = await startTestGateway();
  for (let i = 0; i < 8; i++) tenants.push(await gw.createTenant(`mig-${i}`, 'schema'));
  // A next version beside the shipped ones: a one-column ALTER, as a real release would add.
  shipped = (await loadTenantMigrations()).latest;
  next = shipped + 1;
  dir = await mkdtemp(join(tmpdir(), 'tenantgate-tenant-migrations-'));
  await cp(TENANT_MIGRATIONS_DIR, dir, { recursive: true });
  await writeFile(join(dir, `${String(next).padStart(3, '0')}_nickname.sql`), 'ALTER TABLE users ADD COLUMN nickname text;\n');
  v2 = await loadTenantMigrations(dir);
});

afterAll(async () => {
  await gw?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('migrating tenant schemas', () => {
  it('starts with every new schema tenant at the shipped version', async () => {
    expect(await versions()).toEqual(tenants.map(() => shipped));
    expect(v2.latest).toBe(next);
  });

  it('a canary that fails stops the run before the others', async () => {
    // Tenant 1's schema already has the column, so its ALTER fails.
    await gw.db.admin.unsafe(`ALTER TABLE "${schemaOf(tenants[1]!)}".users ADD COLUMN nickname text`);
    const run = await migrateTenantSchemas(gw.db.admin, v2, { concurrency: 2, canary: 2 });
    expect(run.stoppedAtCanary).toBe(true);
    expect(run.failed.map((f) => f.tenantId)).toEqual([tenants[1]!.id]);
    expect(run.failed[0]?.error).toMatch(new RegExp(`^version ${next} \\(nickname\\): column "nickname" of relation "users" already exists`));
    expect(await versions()).toEqual([next, shipped, shipped, shipped, shipped, shipped, shipped, shipped]);
    const status = await tenantMigrationStatus(gw.db.admin, v2);
    expect(status.behind).toBe(7);
    expect(status.failed).toEqual([expect.objectContaining({ tenantId: tenants[1]!.id, name: 'mig-1', version: shipped })]);
  });

  it('an interrupted run leaves each tenant at a version it fully reached, and the next run resumes', async () => {
    let seen = 0;
    await expect(
      migrateTenantSchemas(gw.db.admin, v2, {
        concurrency: 1,
        onTenant: () => {
          // The process dying after three more tenants.
          if (++seen === 3) throw new Error('interrupted');
        },
      }),
    ).rejects.toThrow('interrupted');
    const after = await versions();
    // Tenant 0 from the canary, then tenant 1 failed again, 2 and 3 migrated, and the run died.
    expect(after).toEqual([next, shipped, next, next, shipped, shipped, shipped, shipped]);
    for (const [i, t] of tenants.entries()) expect(await columnExists(t), `tenant ${i}`).toBe(i === 1 || after[i] === next);

    // Tenant 1 fixed by hand; the rerun migrates only what is left, each exactly once.
    await gw.db.admin.unsafe(`ALTER TABLE "${schemaOf(tenants[1]!)}".users DROP COLUMN nickname`);
    const run = await migrateTenantSchemas(gw.db.admin, v2, { concurrency: 4 });
    expect(run.behind).toBe(5);
    expect(run.migrated).toBe(5);
    expect(run.failed).toEqual([]);
    expect(await versions()).toEqual(tenants.map(() => next));
    const status = await tenantMigrationStatus(gw.db.admin, v2);
    expect(status).toMatchObject({ latest: next, behind: 0, failed: [] });
  });

  it('has nothing to do once every schema is current', async () => {
    const run = await migrateTenantSchemas(gw.db.admin, v2, { concurrency: 4 });
    expect(run).toMatchObject({ behind: 0, migrated: 0, failed: [] });
  });

  it('a migrated tenant is served, with the new column unused by this build', async () => {
    await gw.gateway.registry.evict(tenants[0]!.id);
    const res = await gw.request('/v1/internal/users', {
      method: 'POST',
      headers: { 'x-tenant-id': tenants[0]!.id },
      json: { first_name: 'After', last_name: 'Migration' },
    });
    expect(res.status).toBe(201);
  });
});
