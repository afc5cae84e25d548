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
