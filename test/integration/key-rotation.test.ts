// Master-key rotation against a real PostgreSQL: rekeyAll re-seals every stored password (tenants and the
// shared pool's authenticator) under the newest key of the ring while requests keep flowing, is
// resumable after an interruption, never overwrites a password rotation that races with it, and the
// CLI's `keys rotate` does the same from the command line.
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import postgres, { type Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialError } from '../../src/crypto/credentials.js';
import { parseKeyRing, singleKeyRing, type KeyRing } from '../../src/crypto/key-ring.js';
import { createTenantCatalog } from '../../src/tenants/catalog.js';
import { rekeyAll, type RekeyProgress } from '../../src/tenants/rekey.js';
import { waitFor } from '../support/database.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { REPO_ROOT, TSX } from '../support/processes.js';

const USERS = '/v1/internal/users';

const HEX_A = randomBytes(32).toString('hex');
const HEX_B = randomBytes(32).toString('hex');
/** The ring before rotation: one key, k1. */
const OLD_RING = parseKeyRing(`k1:${HEX_A}`);
/** The ring deployed for the rotation: k2 first (seals), k1 still readable. */
const NEW_RING = parseKeyRing(`k2:${HEX_B},k1:${HEX_A}`);
/** The ring once the old key is dropped. */
const NEW_ONLY_RING = parseKeyRing(`k2:${HEX_B}`);

const open: TestGateway[] = [];
const children = new Set<ChildProcess>();

async function gateway(options: Parameters<typeof startTestGateway>[0]): Promise<TestGateway> {
  const gw = await startTestGateway(options);
  open.push(gw);
  return gw;
}

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  // Peers first: they share their first gateway's database, which closing the first drops.
  for (const gw of open.reverse()) await gw.close();
});

interface Stored {
  readonly id: string;
  readonly db_user: string;
  readonly sealed: string;
}

async function storedTenants(sql: Sql): Promise<Stored[]> {
  return sql<Stored[]>`SELECT id, db_user, db_password_encrypted AS sealed FROM tenants ORDER BY id`;
}

async function storedAuthenticator(sql: Sql): Promise<string> {
  const [row] = await sql<{ value: string }[]>`SELECT value FROM gateway_settings WHERE key = 'authenticator_password'`;
  if (!row) throw new Error('no authenticator password stored');
  return row.value;
}

/** Logs in as the tenant's own role with a password opened by `ring`; resolves to current_user. */
async function logIn(gw: TestGateway, tenant: Stored, ring: KeyRing): Promise<string> {
  const sql = postgres(gw.db.url, { username: tenant.db_user, password: ring.open(tenant.sealed), max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    const [row] = await sql<{ who: string }[]>`SELECT current_user AS who`;
    return row?.who ?? '';
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** A fresh dedicated pool for the tenant (the cached one is closed first): proves the stored login works. */
async function freshLogin(gw: TestGateway, tenantId: string): Promise<string> {
  await gw.gateway.registry.evict(tenantId);
  const [row] = await gw.gateway.registry.run(tenantId, (sql) => sql<{ who: string }[]>`SELECT current_user AS who`);
  return row?.who ?? '';
}

/**
 * The catalog connection, with `beforeUpdate` awaited before each of rekeyAll's `UPDATE tenants`
 * statements (given that statement's values): a deterministic point between reading a batch and writing it.
 */
function withHookBeforeTenantUpdate(sql: Sql, beforeUpdate: (values: unknown[]) => Promise<void>): Sql {
  const wrapped = async (strings: TemplateStringsArray, ...values: unknown[]): Promise<unknown> => {
    if (strings.join('').includes('UPDATE tenants')) await beforeUpdate(values);
    return sql(strings, ...(values as never[]));
  };
  return wrapped as unknown as Sql;
}

function names(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}-${randomBytes(3).toString('hex')}`);
}

describe('rekeyAll while the gateway serves', () => {
  let first: TestGateway;
  let second: TestGateway;
  let tenants: Stored[];

  beforeAll(async () => {
    first = await gateway({ keys: OLD_RING });
    await Promise.all([first.createTenant(), first.createTenant(), first.createTenant(), first.createTenant()]);
    await createTenantCatalog(first.db.admin, OLD_RING).createMany(names('bulk', 5));
    // Two in the reference service's untagged format, as a single CREDENTIALS_KEY wrote them.
    const untagged = createTenantCatalog(first.db.admin, singleKeyRing(Buffer.from(HEX_A, 'hex')));
    await untagged.create(names('untagged', 1)[0] as string);
    await untagged.create(names('untagged', 1)[0] as string);
    tenants = await storedTenants(first.db.admin);
    // The fleet gets the new ring before the rotation runs; it serves on the shared path unless told.
    second = await gateway({ peerOf: first, keys: NEW_RING, pool: { promoteRps: 1_000_000 } });
    for (const t of tenants) {
      const res = await second.request(USERS, { method: 'POST', headers: { 'x-tenant-id': t.id }, json: { first_name: 'Ada', last_name: 'Lovelace' } });
      expect(res.status).toBe(201);
    }
  });

  it('starts from passwords sealed under k1, tagged or in the untagged reference format', async () => {
    expect(tenants).toHaveLength(11);
    expect(tenants.filter((t) => t.sealed.startsWith('k1$'))).toHaveLength(9);
    expect(tenants.filter((t) => /^[0-9a-f]+$/.test(t.sealed))).toHaveLength(2);
    expect(await storedAuthenticator(first.db.admin)).toMatch(/^k1\$/);
  });

  it('re-seals every password under k2 with zero failed requests, keeping open pools', async () => {
    const steady = tenants.slice(0, 3);
    const churned = tenants.slice(3);
    for (const t of steady) await second.gateway.registry.run(t.id, (sql) => sql`SELECT 1`);
    const pidsOf = async (t: Stored): Promise<number[]> =>
      (await second.db.admin<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE usename = ${t.db_user}`).map((r) => r.pid);
    const steadyPidsBefore = await Promise.all(steady.map(pidsOf));
    expect(steadyPidsBefore.every((pids) => pids.length > 0)).toBe(true);

    const failures: string[] = [];
    let completed = 0;
    let inFlight = 0;
    let running = true;
    const track = async (what: string, attempt: () => Promise<boolean>): Promise<void> => {
      inFlight++;
      try {
        if (!(await attempt())) failures.push(what);
      } catch (err) {
        failures.push(`${what}: ${String(err)}`);
      } finally {
        inFlight--;
        completed++;
      }
    };
    const httpLoop = async (offset: number): Promise<void> => {
      for (let i = offset; running; i++) {
        const t = tenants[i % tenants.length] as Stored;
        if (i % 2 === 0) {
          await track(`GET ${t.id}`, async () => {
            const res = await second.request(USERS, { headers: { 'x-tenant-id': t.id } });
            const body = (await res.json()) as { total?: number };
            return res.status === 200 && (body.total ?? 0) >= 1;
          });
        } else {
          await track(`POST ${t.id}`, async () => {
            const res = await second.request(USERS, { method: 'POST', headers: { 'x-tenant-id': t.id }, json: { first_name: 'Grace', last_name: 'Hopper' } });
            await res.body?.cancel();
            return res.status === 201;
          });
        }
      }
    };
    // New logins mid-rotation: the pool opener reads whichever ciphertext is stored at that moment.
    const loginLoop = async (): Promise<void> => {
      for (let i = 0; running; i++) {
        const t = churned[i % churned.length] as Stored;
        await track(`login ${t.id}`, async () => {
          const who = await freshLogin(second, t.id);
          // Close it again, so these pools never need the steady pools' share of the budget.
          await second.gateway.registry.evict(t.id);
          return who === t.db_user;
        });
      }
    };
    const loops = [httpLoop(0), httpLoop(1), httpLoop(5), loginLoop()];
    await waitFor(() => completed >= 20, 10_000, 'traffic to flow');

    const progress: RekeyProgress[] = [];
    let inFlightAtStart = 0;
    // Between reading and writing each batch, let at least one more request complete.
    const sql = withHookBeforeTenantUpdate(second.db.admin, async () => {
      const mark = completed;
      await waitFor(() => completed > mark, 10_000, 'a request to complete between batches');
    });
    inFlightAtStart = inFlight;
    const completedBefore = completed;
    let result: RekeyProgress;
    try {
      result = await rekeyAll(sql, NEW_RING, { batchSize: 3, onBatch: (p) => progress.push(p) });
    } finally {
      const mark = completed;
      await waitFor(() => completed >= mark + 10, 10_000, 'traffic after the rotation').catch(() => undefined);
      running = false;
      await Promise.all(loops);
    }

    expect(failures).toEqual([]);
    expect(inFlightAtStart).toBeGreaterThan(0);
    expect(completed - completedBefore).toBeGreaterThanOrEqual(4 + 10);
    expect(result).toEqual({ rekeyed: 12, skipped: 0 });
    expect(progress).toEqual([
      { rekeyed: 3, skipped: 0 },
      { rekeyed: 6, skipped: 0 },
      { rekeyed: 9, skipped: 0 },
      { rekeyed: 11, skipped: 0 },
    ]);
    // Re-sealing changed no password, so the steady pools kept their connections.
    const steadyPidsAfter = await Promise.all(steady.map(pidsOf));
    steadyPidsBefore.forEach((pids, i) => expect(steadyPidsAfter[i]).toEqual(expect.arrayContaining(pids)));
  });

  it('leaves every stored ciphertext under k2, which the old key alone cannot open', async () => {
    const after = await storedTenants(first.db.admin);
    expect(after.map((t) => t.id)).toEqual(tenants.map((t) => t.id));
    for (const t of after) {
      expect(t.sealed).toMatch(/^k2\$[0-9a-f]+$/);
      expect(() => OLD_RING.open(t.sealed)).toThrow(CredentialError);
    }
    const auth = await storedAuthenticator(first.db.admin);
    expect(auth).toMatch(/^k2\$[0-9a-f]+$/);
    expect(() => OLD_RING.open(auth)).toThrow(CredentialError);
  });

  it('keeps every tenant able to log in, through a gateway that holds only the new key', async () => {
    const third = await gateway({ peerOf: first, keys: NEW_ONLY_RING, pool: { promoteRps: 1_000_000 } });
    for (const t of await storedTenants(first.db.admin)) {
      expect(await freshLogin(third, t.id)).toBe(t.db_user);
      expect(await logIn(first, t, NEW_ONLY_RING)).toBe(t.db_user);
    }
    // The shared pool logged in as the authenticator with the password it opened under k2 alone.
    await third.gateway.registry.evict(tenants[0]?.id as string);
    const res = await third.request(USERS, { headers: { 'x-tenant-id': tenants[0]?.id as string } });
    expect(res.status).toBe(200);
    expect(third.gateway.registry.stats().servedShared).toBeGreaterThan(0);
  });

  it('has nothing left to do on a second run', async () => {
    expect(await rekeyAll(first.db.admin, NEW_RING, { batchSize: 3 })).toEqual({ rekeyed: 0, skipped: 0 });
  });
});

describe('an interrupted rekeyAll', () => {
  it('resumes where it stopped, rewriting no row twice', async () => {
    const gw = await gateway({ keys: OLD_RING });
    await createTenantCatalog(gw.db.admin, OLD_RING).createMany(names('resume', 10));
    const interruption = new Error('interrupted after the first batch');
    const firstRun: RekeyProgress[] = [];
    await expect(
      rekeyAll(gw.db.admin, NEW_RING, {
        batchSize: 3,
        onBatch: (p) => {
          firstRun.push(p);
          throw interruption;
        },
      }),
    ).rejects.toBe(interruption);
    expect(firstRun).toEqual([{ rekeyed: 3, skipped: 0 }]);

    const midway = await storedTenants(gw.db.admin);
    const done = midway.filter((t) => t.sealed.startsWith('k2$'));
    expect(done).toHaveLength(3);
    expect(midway.filter((t) => t.sealed.startsWith('k1$'))).toHaveLength(7);
    expect(await storedAuthenticator(gw.db.admin)).toMatch(/^k1\$/);

    const secondRun = await rekeyAll(gw.db.admin, NEW_RING, { batchSize: 3 });
    // 7 remaining tenants + the authenticator; with the first run's 3: every tenant + 1, each once.
    expect(secondRun).toEqual({ rekeyed: 8, skipped: 0 });
    expect(firstRun[0]!.rekeyed + secondRun.rekeyed).toBe(10 + 1);

    const finished = await storedTenants(gw.db.admin);
    expect(finished.every((t) => t.sealed.startsWith('k2$'))).toBe(true);
    expect(await storedAuthenticator(gw.db.admin)).toMatch(/^k2\$/);
    // The rows the first run finished were left exactly as it wrote them.
    for (const t of done) expect(finished.find((f) => f.id === t.id)?.sealed).toBe(t.sealed);
    for (const t of finished) expect(await logIn(gw, t, NEW_ONLY_RING)).toBe(t.db_user);
  });
});

describe('a password rotation racing with rekeyAll', () => {
  it('wins: the rotated password is kept, and a later run re-seals what an old-key instance wrote', async () => {
    const oldInstance = await gateway({ keys: OLD_RING });
    const newInstance = await gateway({ peerOf: oldInstance, keys: NEW_RING });
    await createTenantCatalog(oldInstance.db.admin, OLD_RING).createMany(names('race', 6));
    const before = await storedTenants(oldInstance.db.admin);

    // Between rekeyAll reading the first batch and writing it, two of its tenants get new passwords:
    // one through an instance that already seals with k2, one through a stale instance still on k1.
    const rotatedWithNewKey = before[0] as Stored;
    const rotatedWithOldKey = before[1] as Stored;
    let racedIds: string[] = [];
    let hooked = false;
    const sql = withHookBeforeTenantUpdate(oldInstance.db.admin, async (values) => {
      if (hooked) return;
      hooked = true;
      racedIds = values[0] as string[];
      const rotate = async (gw: TestGateway, id: string): Promise<void> => {
        const res = await gw.request(`/v1/admin/tenants/${id}/rotate`, { method: 'POST', headers: { authorization: `Bearer ${gw.adminToken}` } });
        expect(res.status).toBe(200);
      };
      await rotate(newInstance, rotatedWithNewKey.id);
      await rotate(oldInstance, rotatedWithOldKey.id);
    });
    const result = await rekeyAll(sql, NEW_RING, { batchSize: 3 });
    expect(racedIds).toContain(rotatedWithNewKey.id);
    expect(racedIds).toContain(rotatedWithOldKey.id);
    // 4 untouched tenants + the authenticator re-sealed; the two rotated rows were left to the rotation.
    expect(result).toEqual({ rekeyed: 5, skipped: 2 });

    const rotations = new Map((await storedTenants(oldInstance.db.admin)).map((t) => [t.id, t.sealed]));
    const newKeyValue = rotations.get(rotatedWithNewKey.id) as string;
    const oldKeyValue = rotations.get(rotatedWithOldKey.id) as string;
    expect(newKeyValue).toMatch(/^k2\$/);
    expect(oldKeyValue).toMatch(/^k1\$/);
    expect(newKeyValue).not.toBe(rotatedWithNewKey.sealed);
    expect(NEW_RING.open(newKeyValue)).not.toBe(NEW_RING.open(rotatedWithNewKey.sealed));
    // The stored password is the role's real password: a fresh login with it succeeds.
    expect(await freshLogin(newInstance, rotatedWithNewKey.id)).toBe(rotatedWithNewKey.db_user);
    expect(await freshLogin(newInstance, rotatedWithOldKey.id)).toBe(rotatedWithOldKey.db_user);

    // The next run picks up the k1 value the stale instance wrote, and only that.
    expect(await rekeyAll(oldInstance.db.admin, NEW_RING, { batchSize: 3 })).toEqual({ rekeyed: 1, skipped: 0 });
    const after = await storedTenants(oldInstance.db.admin);
    expect(after.every((t) => t.sealed.startsWith('k2$'))).toBe(true);
    expect(after.find((t) => t.id === rotatedWithNewKey.id)?.sealed).toBe(newKeyValue);
    const reSealed = after.find((t) => t.id === rotatedWithOldKey.id) as Stored;
    expect(NEW_ONLY_RING.open(reSealed.sealed)).toBe(OLD_RING.open(oldKeyValue));
    expect(await logIn(oldInstance, reSealed, NEW_ONLY_RING)).toBe(rotatedWithOldKey.db_user);
  });
});

describe('npm run cli -- keys rotate', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await gateway({ keys: OLD_RING });
    await Promise.all([gw.createTenant(), gw.createTenant(), gw.createTenant()]);
  });

  function cli(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const base = { ...process.env };
    delete base.CREDENTIALS_KEY;
    delete base.CREDENTIALS_KEYS;
    delete base.DATABASE_URL;
    return new Promise((resolve) => {
      const child = execFile(
        TSX,
        ['src/cli.ts', 'keys', 'rotate'],
        { cwd: REPO_ROOT, env: { ...base, DATABASE_URL: gw.db.url, ADMIN_JWT_SECRET: gw.adminSecret, ...env }, timeout: 25_000, killSignal: 'SIGKILL' },
        (error, stdout, stderr) => {
          children.delete(child);
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
        },
      );
      children.add(child);
    });
  }

  it('with only CREDENTIALS_KEY exits 1 with no_key_ring and changes nothing', async () => {
    const before = await storedTenants(gw.db.admin);
    const result = await cli({ CREDENTIALS_KEY: HEX_A });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain('no_key_ring');
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toContain(HEX_A);
    expect(await storedTenants(gw.db.admin)).toEqual(before);
  });

  it('with CREDENTIALS_KEYS re-seals everything and prints {rekeyed, skipped}', async () => {
    const result = await cli({ CREDENTIALS_KEYS: `k2:${HEX_B},k1:${HEX_A}` });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ rekeyed: 3 + 1, skipped: 0 });
    for (const secret of [HEX_A, HEX_B]) expect(result.stdout + result.stderr).not.toContain(secret);
    const after = await storedTenants(gw.db.admin);
    expect(after).toHaveLength(3);
    for (const t of after) {
      expect(t.sealed).toMatch(/^k2\$/);
      expect(await logIn(gw, t, NEW_ONLY_RING)).toBe(t.db_user);
    }
    expect(await storedAuthenticator(gw.db.admin)).toMatch(/^k2\$/);
  });
});

describe('rekeyAll and the servers', () => {
  it("re-seals a data server's URL password under the newest key, and it still opens to the same password", async () => {
    const gw = await gateway({ keys: OLD_RING });
    await gw.db.admin`INSERT INTO servers (name, url, password_sealed, max_connections)
                      VALUES ('eu2', 'postgres://owner@127.0.0.1:1/tenantgate', ${OLD_RING.seal('s3cret pass')}, 10)`;
    await rekeyAll(gw.db.admin, NEW_RING);
    const [row] = await gw.db.admin<{ sealed: string }[]>`SELECT password_sealed AS sealed FROM servers WHERE name = 'eu2'`;
    expect(NEW_RING.isCurrent(row?.sealed as string)).toBe(true);
    expect(NEW_ONLY_RING.open(row?.sealed as string)).toBe('s3cret pass');
  });
});
