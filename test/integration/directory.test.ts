// The tenant directory against a real catalog: unknown ids are remembered apart from real tenants, so a
// flood of random ids cannot push real tenants out of the cache (each would then cost a catalog read).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTenantDirectory } from '../../src/tenants/directory.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let real: { id: string }[];

beforeAll(async () => {
  gw = await startTestGateway();
  real = await Promise.all([gw.createTenant(), gw.createTenant(), gw.createTenant()]);
});

afterAll(async () => {
  await gw?.close();
});

it('500 unknown ids leave the real tenants cached, and each unknown id is a 404', async () => {
  const directory = createTenantDirectory(gw.gateway.catalog, { maxTenants: 5, maxUnknown: 50, ttlMs: 60_000, negativeTtlMs: 60_000 });
  for (const t of real) await directory.require(t.id);
  for (let i = 0; i < 500; i++) {
    await expect(directory.require(randomUUID())).rejects.toMatchObject({ code: 'tenant_not_found' });
  }
  for (const t of real) expect(directory.peek(t.id)?.id).toBe(t.id);
  expect(directory.size()).toBe(3);
});

it('an id remembered as unknown is found once created and invalidated (as the change feed does)', async () => {
  const directory = createTenantDirectory(gw.gateway.catalog, { maxTenants: 5, ttlMs: 60_000, negativeTtlMs: 60_000 });
  const id = randomUUID();
  await expect(directory.require(id)).rejects.toMatchObject({ code: 'tenant_not_found' });
  await gw.db.admin`INSERT INTO tenants (id, name, db_user, db_password_encrypted) VALUES (${id}, ${`late-${id}`}, ${`t_${id.replaceAll('-', '')}`}, 'x')`;
  await expect(directory.require(id)).rejects.toMatchObject({ code: 'tenant_not_found' });
  directory.invalidate(id);
  expect((await directory.require(id)).id).toBe(id);
  await gw.db.admin`DELETE FROM tenants WHERE id = ${id}`;
});

it('never goes back to an older placement: once a placement version is announced, an older row is neither served nor cached', async () => {
  const directory = createTenantDirectory(gw.gateway.catalog, { maxTenants: 5, ttlMs: 60_000, negativeTtlMs: 60_000 });
  const t = real[0] as { id: string };
  const before = await directory.require(t.id);
  expect(before.placementVersion).toBeGreaterThanOrEqual(1);
  // The feed announces version +1 before this instance's read can see it (a read racing the commit).
  directory.notePlacementVersion(t.id, before.placementVersion + 1);
  expect(directory.peek(t.id)).toBeUndefined();
  await expect(directory.require(t.id)).rejects.toMatchObject({ code: 'tenant_changed', status: 503 });
  // The change commits: the new placement is read and cached.
  await gw.db.admin`INSERT INTO servers (name, url, password_sealed, max_connections)
                    VALUES ('other', 'postgres://owner@127.0.0.1:1/x', ${gw.keys.seal('unused')}, 10) ON CONFLICT DO NOTHING`;
  await gw.db.admin`UPDATE tenants SET server = 'other' WHERE id = ${t.id}`;
  const after = await directory.require(t.id);
  expect(after.placementVersion).toBe(before.placementVersion + 1);
  expect(after.placement.server).toBe('other');
  // An announcement of a version already passed changes nothing.
  directory.notePlacementVersion(t.id, before.placementVersion);
  expect(directory.peek(t.id)?.placement.server).toBe('other');
  await gw.db.admin`UPDATE tenants SET server = 'main' WHERE id = ${t.id}`;
});
