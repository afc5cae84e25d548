// The name → id cache of TENANT_FROM=host against a fake catalog: one read per name however many ask at
// once, unknown names remembered apart, and a change to a tenant (as the change feed reports it) drops
// its names at once, even when the change races a read in flight.
import type { Sql } from 'postgres';
import { describe, expect, it } from 'vitest';
import { createTenantNames } from '../../src/tenants/names.js';

const ACME = '0b6a3f6e-6a5c-4d4e-9c1b-1f2e3d4c5b6a';
const GLOBEX = '7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f';

/** A catalog whose `tenants` table is `rows` (name → id); reads can be held to order them against changes. */
function fakeCatalog(rows: Map<string, string>) {
  const reads: string[] = [];
  let gate: Promise<void> | undefined;
  const sql = (async (_strings: TemplateStringsArray, name: string) => {
    reads.push(name);
    // The row as it is when the read starts: what a query would see.
    const id = rows.get(name);
    if (gate) await gate;
    return id === undefined ? [] : [{ id }];
  }) as unknown as Sql;
  return {
    sql,
    reads,
    hold(): () => void {
      let release = (): void => undefined;
      gate = new Promise((resolve) => {
        release = () => {
          gate = undefined;
          resolve();
        };
      });
      return release;
    },
  };
}

const options = { maxNames: 100, ttlMs: 60_000, negativeTtlMs: 60_000 };

describe('createTenantNames', () => {
  it('reads a name once, then answers from the cache without a promise', async () => {
    const catalog = fakeCatalog(new Map([['acme', ACME]]));
    const names = createTenantNames(catalog.sql, options);
    expect(names.peekIdOf('acme')).toBeUndefined();
    const answers = await Promise.all([names.idOf('acme'), names.idOf('acme'), names.idOf('acme')]);
    expect(answers).toEqual([ACME, ACME, ACME]);
    expect(catalog.reads).toEqual(['acme']);
    expect(names.peekIdOf('acme')).toBe(ACME);
    expect(names.size()).toBe(1);
  });

  it('an unknown name is tenant_not_found, and is remembered apart from the real ones', async () => {
    const catalog = fakeCatalog(new Map([['acme', ACME]]));
    const names = createTenantNames(catalog.sql, { ...options, maxNames: 1, maxUnknown: 5 });
    await names.idOf('acme');
    for (let i = 0; i < 20; i++) await expect(names.idOf(`nobody${i}`)).rejects.toMatchObject({ code: 'tenant_not_found', status: 404 });
    await expect(names.idOf('nobody19')).rejects.toMatchObject({ code: 'tenant_not_found' });
    expect(catalog.reads.filter((n) => n === 'nobody19')).toHaveLength(1);
    expect(names.peekIdOf('acme')).toBe(ACME);
  });

  it('a change to a tenant drops its names: a rename or deletion is seen at once, not after the TTL', async () => {
    const rows = new Map([
      ['acme', ACME],
      ['globex', GLOBEX],
    ]);
    const catalog = fakeCatalog(rows);
    const names = createTenantNames(catalog.sql, options);
    await names.idOf('acme');
    await names.idOf('globex');
    rows.delete('acme');
    rows.set('acme-corp', ACME);
    names.invalidate(ACME);
    expect(names.peekIdOf('acme')).toBeUndefined();
    expect(names.peekIdOf('globex')).toBe(GLOBEX);
    await expect(names.idOf('acme')).rejects.toMatchObject({ code: 'tenant_not_found' });
    expect(await names.idOf('acme-corp')).toBe(ACME);
  });

  it('a name remembered as unknown is found once any tenant changed (it may have been created or renamed to it)', async () => {
    const rows = new Map<string, string>();
    const catalog = fakeCatalog(rows);
    const names = createTenantNames(catalog.sql, options);
    await expect(names.idOf('acme')).rejects.toMatchObject({ code: 'tenant_not_found' });
    rows.set('acme', ACME);
    await expect(names.idOf('acme')).rejects.toMatchObject({ code: 'tenant_not_found' });
    names.invalidate(ACME);
    expect(await names.idOf('acme')).toBe(ACME);
  });

  it('a read that raced a change answers its waiters but is not cached', async () => {
    const rows = new Map([['acme', ACME]]);
    const catalog = fakeCatalog(rows);
    const names = createTenantNames(catalog.sql, options);
    const release = catalog.hold();
    const racing = names.idOf('acme');
    rows.delete('acme');
    names.invalidate(ACME);
    release();
    expect(await racing).toBe(ACME);
    expect(names.peekIdOf('acme')).toBeUndefined();
    await expect(names.idOf('acme')).rejects.toMatchObject({ code: 'tenant_not_found' });
  });

  it('clear() (a gap in the change feed) forgets everything', async () => {
    const catalog = fakeCatalog(new Map([['acme', ACME]]));
    const names = createTenantNames(catalog.sql, options);
    await names.idOf('acme');
    names.clear();
    expect(names.size()).toBe(0);
    expect(await names.idOf('acme')).toBe(ACME);
    expect(catalog.reads).toEqual(['acme', 'acme']);
  });

  it('stays bounded, and an evicted name no longer ties up its id', async () => {
    const rows = new Map(Array.from({ length: 10 }, (_, i) => [`t${i}`, `00000000-0000-4000-8000-00000000000${i}`] as const));
    const catalog = fakeCatalog(new Map(rows));
    const names = createTenantNames(catalog.sql, { ...options, maxNames: 3 });
    for (const name of rows.keys()) await names.idOf(name);
    expect(names.size()).toBe(3);
    // Invalidating an evicted tenant's id is harmless, and a cached one still drops only its own name.
    names.invalidate('00000000-0000-4000-8000-000000000000');
    names.invalidate('00000000-0000-4000-8000-000000000009');
    expect(names.size()).toBe(2);
    expect(names.peekIdOf('t8')).toBe('00000000-0000-4000-8000-000000000008');
  });
});
