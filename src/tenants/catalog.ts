// Tenant administration against the catalog: create (row + role in one transaction), list, rotate the
// role password, delete. Passwords are generated here, sealed before they are stored, sent to
// PostgreSQL only as SCRAM verifiers, and never returned.
import { detectCitus } from '../citus/coordinator.js';
import { randomUUID } from 'node:crypto';
import type { Sql, TransactionSql } from 'postgres';
import type { KeyRing } from '../crypto/key-ring.js';
import { generateRolePassword } from '../crypto/password.js';
import { scramSha256Verifier, scramSha256VerifierAsync } from '../crypto/scram.js';
import { translateDbError } from '../db/errors.js';
import { Conflict, NotFound, Unavailable, UnprocessableEntity } from '../errors.js';
import type { DataServer, IsolationModel, OwnDatabaseProvisioning, TenantLogin } from '../isolation/model.js';
import type { IsolationModels } from '../isolation/models.js';
import { rlsModel } from '../isolation/rls.js';
import type { IsolationModelName } from './placement.js';
import type { TenantListParams } from './list-input.js';
import { roleNameFor } from './role-name.js';
import { MAIN_SERVER } from '../servers/catalog.js';
import type { ServerConnections } from '../servers/connections.js';
import { hostTenant, unhostTenant } from '../servers/hosted.js';
import { serverRanking } from './placement-policy.js';

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly db_user: string;
  readonly status: string;
  readonly rate_limit_rps: number | null;
  readonly rate_limit_burst: number | null;
  readonly server: string;
  readonly model: IsolationModelName;
  readonly created_at: Date;
  readonly updated_at: Date;
}

export type TenantStatus = 'active' | 'suspended';

export interface TenantPage {
  readonly records: Tenant[];
  readonly total: number;
}

export interface TenantCatalog {
  /**
   * `model`: the tenant's isolation model, the catalog's default when left out; `server`: where it
   * lives, the placement policy's choice (src/tenants/placement-policy.ts) when left out.
   */
  create(name: string, model?: IsolationModelName, server?: string): Promise<Tenant>;
  /** Creates many tenants in a few statements (rows and roles in one transaction per chunk). */
  createMany(names: readonly string[], model?: IsolationModelName, server?: string): Promise<Tenant[]>;
  /** One page, filtered and sorted; ties broken by id, so pages never overlap. */
  list(params: TenantListParams): Promise<TenantPage>;
  get(id: string): Promise<Tenant | undefined>;
  findByName(name: string): Promise<Tenant | undefined>;
  /** New role password and ciphertext, committed together. Returns when it committed. */
  rotate(id: string): Promise<Date>;
  /** Drops the tenant's rows (cascade), its catalog row and its role. */
  remove(id: string): Promise<void>;
  setStatus(id: string, status: TenantStatus): Promise<Tenant>;
  /** Per-tenant rate limit; null clears the override (the gateway-wide limit applies). */
  setRateLimit(id: string, rps: number | null, burst: number | null): Promise<Tenant>;
}

// Every column a tenant is shown with; never the password.
const COLUMNS = 'id, name, db_user, status, rate_limit_rps, rate_limit_burst, server, model, created_at, updated_at';

export interface TenantCatalogOptions {
  /** The isolation models this catalog can provision, by name (default: the row model alone). */
  readonly models?: IsolationModels;
  /** The model of tenants created without one. */
  readonly defaultModel?: IsolationModelName;
  /** How to reach data servers; without it every tenant lives on main (and none can be a database tenant). */
  readonly servers?: ServerConnections;
}

/** Tenants about to be created: ids, names, sealed passwords and what their server needs. */
interface NewTenants {
  readonly ids: readonly string[];
  readonly names: readonly string[];
  readonly sealed: readonly string[];
  readonly logins: readonly TenantLogin[];
}

/** The catalog rows of new tenants, returned as the API shows them. */
async function insertRows(sql: Sql | TransactionSql, server: string, model: IsolationModel, batch: NewTenants, version: number | null): Promise<Tenant[]> {
  return sql<Tenant[]>`
    INSERT INTO tenants (id, name, db_user, db_password_encrypted, server, model, data_name, data_version)
    SELECT id, name, db_user, pw, ${server}, ${model.name}, d, ${version}::int
    FROM unnest(${batch.ids as string[]}::uuid[], ${batch.names as string[]}::text[], ${batch.logins.map((l) => l.role)}::text[],
                ${batch.sealed as string[]}::text[], ${batch.logins.map((l) => l.dataName) as string[]}::text[])
      AS x(id, name, db_user, pw, d)
    RETURNING ${sql.unsafe(COLUMNS)}`;
}

const ROW_MODEL_ONLY: IsolationModels = new Map([[rlsModel.name, rlsModel]]);

export function createTenantCatalog(sql: Sql, keys: KeyRing, options: TenantCatalogOptions = {}): TenantCatalog {
  const models = options.models ?? ROW_MODEL_ONLY;
  const modelOf = (name: string): IsolationModel => {
    const found = models.get(name as IsolationModelName);
    if (!found) throw new Error(`no isolation model ${JSON.stringify(name)} in this gateway`);
    return found;
  };
  const defaultModel = options.defaultModel ?? 'rls';
  const servers = options.servers;
  const sealNewPassword = (): { sealed: string; verifier: string } => {
    const password = generateRolePassword();
    return { sealed: keys.seal(password), verifier: scramSha256Verifier(password) };
  };

  const notFound = (id: string): NotFound => new NotFound('tenant_not_found', `no tenant with id ${id}`);
  const nameTaken = (name: string): Conflict => new Conflict('tenant_exists', `a tenant named "${name}" already exists`);

  const findByName = async (name: string): Promise<Tenant | undefined> => {
    const [tenant] = await sql<Tenant[]>`
      SELECT ${sql.unsafe(COLUMNS)} FROM tenants WHERE name = ${name}`;
    return tenant;
  };

  /** The server named for a new tenant: it must be listed. */
  const namedServer = async (named: string): Promise<string> => {
    if (named === MAIN_SERVER) return named;
    const [row] = await sql`SELECT 1 FROM servers WHERE name = ${named}`;
    if (!row || servers === undefined) throw new UnprocessableEntity('unknown_server', `no server named "${named}" (field server); see GET /v1/admin/servers`);
    return named;
  };

  /**
   * Runs `create` on the server named, else on the placement policy's choice. A data server the policy
   * chose that cannot be reached is passed over for the next in its order, so while one server is down
   * tenants are still created (elsewhere); a named server is not: the caller asked for that one.
   */
  const onServer = async <T>(named: string | undefined, create: (server: string) => Promise<T>): Promise<T> => {
    if (named !== undefined) return create(await namedServer(named));
    if (servers === undefined) return create(MAIN_SERVER);
    const ranked = await serverRanking(sql);
    for (const [i, server] of ranked.entries()) {
      try {
        return await create(server);
      } catch (err) {
        const unreachable = err instanceof Unavailable && err.code === 'database_unavailable';
        // main holds the catalog: if it cannot be reached, no other server helps.
        if (!unreachable || server === MAIN_SERVER || i === ranked.length - 1) throw err;
      }
    }
    return create(MAIN_SERVER);
  };

  const adminOf = (server: string): Promise<Sql> => {
    if (servers === undefined) throw new Error(`no server connections to reach server ${server}`);
    return servers.admin(server);
  };

  /** A server's owner connection and URL (a database tenant's provisioning connects to its database). */
  const dataServer = async (name: string): Promise<DataServer> => {
    if (servers === undefined) throw new Error('database tenants need the catalog to have server connections');
    return { admin: await servers.admin(name), url: (await servers.record(name)).url };
  };

  /**
   * A database tenant (a database of its own): made on its server before its catalog row is written,
   * dropped again if the row is refused. It needs no hosted row on a data server: its tables are in its
   * own database, with no foreign key to any tenants table.
   */
  const createWithOwnDatabase = async (name: string, model: IsolationModel, own: OwnDatabaseProvisioning, server: string): Promise<Tenant> => {
    // A taken name is found before a database is made for nothing (the insert below still decides).
    if (await findByName(name)) throw nameTaken(name);
    const id = randomUUID();
    const role = roleNameFor(id);
    const { sealed, verifier } = sealNewPassword();
    const login: TenantLogin = { role, verifier, dataName: model.dataNameFor(role) };
    const target = await dataServer(server);
    // A database of its own would hold no Citus metadata: its tables could not be distributed.
    if ((await detectCitus(target.admin)) !== undefined) {
      throw new UnprocessableEntity(
        'model_unsupported',
        `server "${server}" is a Citus coordinator: database tenants cannot be placed there (field model); use rls or schema`,
      );
    }
    let version: number;
    try {
      version = await own.provision(target, login);
    } catch (err) {
      throw translateDbError(err) ?? err;
    }
    try {
      const [tenant] = await insertRows(sql, server, model, { ids: [id], names: [name], sealed: [sealed], logins: [login] }, version);
      return tenant as Tenant;
    } catch (err) {
      await own.deprovision(target, role, login.dataName as string).catch(() => undefined);
      if (isUniqueViolation(err, 'tenants_name_key')) throw nameTaken(name);
      throw translateDbError(err) ?? err;
    }
  };

  /**
   * Creates tenants on a data server: roles, data and hosted rows there in one transaction, committed
   * before the catalog rows, which are what makes them reachable. If the catalog refuses them, what
   * was made on the server is removed again.
   */
  const createElsewhere = async (server: string, model: IsolationModel, batch: NewTenants): Promise<Tenant[]> => {
    const admin = await adminOf(server);
    let version: number | null;
    try {
      version = await admin.begin(async (tx) => {
        const made = await model.provision(tx, batch.logins);
        for (const [i, login] of batch.logins.entries()) {
          await hostTenant(tx, { id: batch.ids[i] as string, role: login.role, model: model.name, dataName: login.dataName, dataVersion: made });
        }
        return made;
      });
    } catch (err) {
      throw translateDbError(err) ?? err;
    }
    try {
      return await insertRows(sql, server, model, batch, version);
    } catch (err) {
      await admin
        .begin(async (tx) => {
          for (const [i, login] of batch.logins.entries()) {
            await unhostTenant(tx, batch.ids[i] as string);
            await model.deprovision(tx, login.role, login.dataName);
          }
        })
        .catch(() => undefined);
      throw err;
    }
  };

  const createChunk = async (names: string[], model: IsolationModel, server: string): Promise<Tenant[]> => {
    const own = model.ownDatabase;
    if (own) return Promise.all(names.map((name) => createWithOwnDatabase(name, model, own, server)));
    const ids = names.map(() => randomUUID());
    const dbUsers = ids.map(roleNameFor);
    const passwords = names.map(() => generateRolePassword());
    const verifiers = await Promise.all(passwords.map((p) => scramSha256VerifierAsync(p)));
    const batch: NewTenants = {
      ids,
      names,
      sealed: passwords.map((p) => keys.seal(p)),
      logins: dbUsers.map((role, i) => ({ role, verifier: verifiers[i] as string, dataName: model.dataNameFor(role) })),
    };
    try {
      if (server !== MAIN_SERVER) return await createElsewhere(server, model, batch);
      return await sql.begin(async (tx) => insertRows(tx, server, model, batch, await model.provision(tx, batch.logins)));
    } catch (err) {
      if (isUniqueViolation(err, 'tenants_name_key')) {
        throw new Conflict(
          'tenant_exists',
          names.length === 1 ? `a tenant named "${names[0]}" already exists` : 'a tenant with one of these names already exists',
        );
      }
      throw translateDbError(err) ?? err;
    }
  };

  return {
    async create(name, modelName = defaultModel, server) {
      const model = modelOf(modelName);
      const [tenant] = await onServer(server, (target) => createChunk([name], model, target));
      return tenant as Tenant;
    },

    async createMany(names, modelName = defaultModel, server) {
      const model = modelOf(modelName);
      const chunks: string[][] = [];
      for (let i = 0; i < names.length; i += model.bulkChunk) chunks.push(names.slice(i, i + model.bulkChunk));
      if (chunks.length === 0) return [];
      // The first chunk settles the server (passing over one that cannot be reached); the rest follow it.
      let target = MAIN_SERVER;
      const created: Tenant[][] = [
        await onServer(server, async (chosen) => {
          const made = await createChunk(chunks[0] as string[], model, chosen);
          target = chosen;
          return made;
        }),
      ];
      // PostgreSQL spends ~2 ms of CPU per role created with a password: two chunks at a time use both
      // cores of a small server. Each chunk is one transaction; chunks are not atomic together.
      let next = 1;
      const worker = async (): Promise<void> => {
        while (next < chunks.length) {
          const index = next++;
          created[index] = await createChunk(chunks[index] as string[], model, target);
        }
      };
      await Promise.all([worker(), worker()]);
      return created.flat();
    },

    async list(params) {
      const { page, pageSize, searchPattern = null, status = null } = params;
      // Filters as nullable parameters (one statement text whatever is given); the sort column comes
      // from the whitelist only, as an identifier.
      const where = sql`WHERE (${searchPattern}::text IS NULL OR name ILIKE ${searchPattern}::text)
                          AND (${status}::text IS NULL OR status = ${status}::text)`;
      const direction = sql.unsafe(params.sortDirection === 'desc' ? 'DESC' : 'ASC');
      const rows = await sql<(Tenant & { total: string })[]>`
        SELECT ${sql.unsafe(COLUMNS)}, count(*) OVER () AS total
        FROM tenants ${where}
        ORDER BY ${sql(params.sortColumn)} ${direction}, id ${direction}
        LIMIT ${pageSize} OFFSET ${(page - 1) * pageSize}`;
      const total = rows.length > 0 ? Number(rows[0]?.total) : Number((await sql`SELECT count(*) AS n FROM tenants ${where}`)[0]?.n);
      return { records: rows.map(({ total: _total, ...tenant }) => tenant), total };
    },

    async get(id) {
      const [tenant] = await sql<Tenant[]>`
        SELECT ${sql.unsafe(COLUMNS)} FROM tenants WHERE id = ${id}`;
      return tenant;
    },

    findByName,

    async rotate(id) {
      const { sealed, verifier } = sealNewPassword();
      return sql.begin(async (tx) => {
        const [row] = await tx<{ db_user: string; server: string; updated_at: Date }[]>`
          UPDATE tenants
          SET db_password_encrypted = ${sealed}, credentials_version = credentials_version + 1, updated_at = now()
          WHERE id = ${id} RETURNING db_user, server, updated_at`;
        if (!row) throw notFound(id);
        // The role lives on the tenant's server; the catalog's change commits only if that succeeded.
        const target = row.server === MAIN_SERVER ? tx : await adminOf(row.server);
        await target`SELECT tenantgate_set_role_password(${row.db_user}, ${verifier})`;
        return row.updated_at;
      });
    },

    async setStatus(id, status) {
      const [tenant] = await sql<Tenant[]>`
        UPDATE tenants SET status = ${status}, updated_at = now() WHERE id = ${id} RETURNING ${sql.unsafe(COLUMNS)}`;
      if (!tenant) throw notFound(id);
      return tenant;
    },

    async setRateLimit(id, rps, burst) {
      const [tenant] = await sql<Tenant[]>`
        UPDATE tenants SET rate_limit_rps = ${rps}, rate_limit_burst = ${burst}, updated_at = now()
        WHERE id = ${id} RETURNING ${sql.unsafe(COLUMNS)}`;
      if (!tenant) throw notFound(id);
      return tenant;
    },

    async remove(id) {
      const [placed] = await sql<{ db_user: string; server: string; model: string; data_name: string | null }[]>`
        SELECT db_user, server, model, data_name FROM tenants WHERE id = ${id}`;
      if (!placed) throw notFound(id);
      const own = modelOf(placed.model).ownDatabase;
      if (own && placed.data_name !== null) {
        // The database first: if that fails the tenant is still whole, and a retry starts again. Once
        // it is gone, requests find no database (answered as a tenant that changed) until the row goes.
        await own.deprovision(await dataServer(placed.server), placed.db_user, placed.data_name);
        await sql`DELETE FROM tenants WHERE id = ${id}`;
        return;
      }
      await sql.begin(async (tx) => {
        const [row] = await tx<{ db_user: string; model: string; data_name: string | null; server: string }[]>`
          DELETE FROM tenants WHERE id = ${id} RETURNING db_user, model, data_name, server`;
        if (!row) throw notFound(id);
        const model = modelOf(row.model);
        if (row.server === MAIN_SERVER) {
          await model.deprovision(tx, row.db_user, row.data_name);
          return;
        }
        // The server's copy goes first: if it cannot, the tenant stays in the catalog (and the caller
        // may retry), rather than leaving data no catalog row leads to.
        await (
          await adminOf(row.server)
        ).begin(async (remote) => {
          await unhostTenant(remote, id);
          await model.deprovision(remote, row.db_user, row.data_name);
        });
        // A row-model tenant moved away from main left a fence there (src/move/source-cleanup.ts): it
        // goes with the tenant. Its name comes from the tenant id, its tables from the model.
        const [fenced] = row.model === rlsModel.name ? await tx`SELECT 1 FROM tenantgate_moves WHERE tenant_id = ${id}` : [];
        if (fenced) {
          const tables = model.tables({ server: MAIN_SERVER, model: model.name, dataName: row.data_name, dataVersion: null });
          await tx`SELECT tenantgate_move_end(${id}, ${Object.values(tables)}::text[]::regclass[])`;
        }
      });
    },
  };
}

function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = err as { code?: unknown; constraint_name?: unknown };
  return e.code === '23505' && e.constraint_name === constraint;
}
