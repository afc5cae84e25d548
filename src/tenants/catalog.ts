// Tenant administration against the catalog: create (row + role in one transaction), list, rotate the
// role password, delete. Passwords are generated here, sealed before they are stored, sent to
// PostgreSQL only as SCRAM verifiers, and never returned.
import { randomUUID } from 'node:crypto';
import type { Sql } from 'postgres';
import type { KeyRing } from '../crypto/key-ring.js';
import { generateRolePassword } from '../crypto/password.js';
import { scramSha256Verifier, scramSha256VerifierAsync } from '../crypto/scram.js';
import { translateDbError } from '../db/errors.js';
import { Conflict, NotFound } from '../errors.js';
import type { DataServers, IsolationModel, OwnDatabaseProvisioning } from '../isolation/model.js';
import type { IsolationModels } from '../isolation/models.js';
import { rlsModel } from '../isolation/rls.js';
import type { IsolationModelName } from './placement.js';
import type { TenantListParams } from './list-input.js';
import { roleNameFor } from './role-name.js';

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
  /** `model`: the tenant's isolation model; the catalog's default when left out. */
  create(name: string, model?: IsolationModelName): Promise<Tenant>;
  /** Creates many tenants in a few statements (rows and roles in one transaction per chunk). */
  createMany(names: readonly string[], model?: IsolationModelName): Promise<Tenant[]>;
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
  /** The servers tenants' data is on, for models that create a database per tenant (database). */
  readonly servers?: DataServers;
}

/** Where new tenants' data goes, until placement chooses among servers. */
const HOME_SERVER = 'main';

const ROW_MODEL_ONLY: IsolationModels = new Map([[rlsModel.name, rlsModel]]);

export function createTenantCatalog(sql: Sql, keys: KeyRing, options: TenantCatalogOptions = {}): TenantCatalog {
  const models = options.models ?? ROW_MODEL_ONLY;
  const modelOf = (name: string): IsolationModel => {
    const found = models.get(name as IsolationModelName);
    if (!found) throw new Error(`no isolation model ${JSON.stringify(name)} in this gateway`);
    return found;
  };
  const defaultModel = options.defaultModel ?? 'rls';
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

  const serverNamed = (name: string): ReturnType<DataServers> => {
    if (!options.servers) throw new Error('this catalog has no server connections for database tenants');
    return options.servers(name);
  };

  // ── database model (a database per tenant): made before its row is written, dropped if that fails ──
  const createWithOwnDatabase = async (name: string, model: IsolationModel, own: OwnDatabaseProvisioning): Promise<Tenant> => {
    const id = randomUUID();
    const role = roleNameFor(id);
    const dataName = model.dataNameFor(role);
    const { sealed, verifier } = sealNewPassword();
    // A taken name is found before a database is made for nothing (the insert below still decides).
    if (await findByName(name)) throw nameTaken(name);
    const server = await serverNamed(HOME_SERVER);
    let version: number;
    try {
      version = await own.provision(server, { role, verifier, dataName });
    } catch (err) {
      throw translateDbError(err) ?? err;
    }
    try {
      const [tenant] = await sql<Tenant[]>`
        INSERT INTO tenants (id, name, db_user, db_password_encrypted, server, model, data_name, data_version)
        VALUES (${id}, ${name}, ${role}, ${sealed}, ${HOME_SERVER}, ${model.name}, ${dataName}, ${version})
        RETURNING ${sql.unsafe(COLUMNS)}`;
      return tenant as Tenant;
    } catch (err) {
      await own.deprovision(server, role, dataName as string).catch(() => undefined);
      if (isUniqueViolation(err, 'tenants_name_key')) throw nameTaken(name);
      throw translateDbError(err) ?? err;
    }
  };

  const createChunk = async (names: string[], model: IsolationModel): Promise<Tenant[]> => {
    const own = model.ownDatabase;
    if (own) return Promise.all(names.map((name) => createWithOwnDatabase(name, model, own)));
    const ids = names.map(() => randomUUID());
    const dbUsers = ids.map(roleNameFor);
    const dataNames = dbUsers.map((role) => model.dataNameFor(role));
    const passwords = names.map(() => generateRolePassword());
    const sealed = passwords.map((p) => keys.seal(p));
    const verifiers = await Promise.all(passwords.map((p) => scramSha256VerifierAsync(p)));
    try {
      return await sql.begin(async (tx) => {
        const version = await model.provision(
          tx,
          dbUsers.map((role, i) => ({ role, verifier: verifiers[i] as string, dataName: dataNames[i] ?? null })),
        );
        return await tx<Tenant[]>`
          INSERT INTO tenants (id, name, db_user, db_password_encrypted, model, data_name, data_version)
          SELECT id, name, db_user, pw, ${model.name}, d, ${version}::int
          FROM unnest(${ids}::uuid[], ${names}::text[], ${dbUsers}::text[], ${sealed}::text[], ${dataNames as string[]}::text[])
            AS x(id, name, db_user, pw, d)
          RETURNING ${sql.unsafe(COLUMNS)}`;
      });
    } catch (err) {
      if (isUniqueViolation(err, 'tenants_name_key')) {
        throw new Conflict('tenant_exists', 'a tenant with one of these names already exists');
      }
      throw translateDbError(err) ?? err;
    }
  };

  return {
    async create(name, modelName = defaultModel) {
      const model = modelOf(modelName);
      if (model.ownDatabase) return createWithOwnDatabase(name, model, model.ownDatabase);
      const id = randomUUID();
      const dbUser = roleNameFor(id);
      const dataName = model.dataNameFor(dbUser);
      const { sealed, verifier } = sealNewPassword();
      try {
        return await sql.begin(async (tx) => {
          const version = await model.provision(tx, [{ role: dbUser, verifier, dataName }]);
          const [tenant] = await tx<Tenant[]>`
            INSERT INTO tenants (id, name, db_user, db_password_encrypted, model, data_name, data_version)
            VALUES (${id}, ${name}, ${dbUser}, ${sealed}, ${model.name}, ${dataName}, ${version})
            RETURNING ${sql.unsafe(COLUMNS)}`;
          return tenant as Tenant;
        });
      } catch (err) {
        if (isUniqueViolation(err, 'tenants_name_key')) throw nameTaken(name);
        throw translateDbError(err) ?? err;
      }
    },

    async createMany(names, modelName = defaultModel) {
      const model = modelOf(modelName);
      const chunks: string[][] = [];
      for (let i = 0; i < names.length; i += model.bulkChunk) chunks.push(names.slice(i, i + model.bulkChunk));
      const created: Tenant[][] = [];
      // PostgreSQL spends ~2 ms of CPU per role created with a password: two chunks at a time use both
      // cores of a small server. Each chunk is one transaction; chunks are not atomic together.
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < chunks.length) {
          const index = next++;
          created[index] = await createChunk(chunks[index] as string[], model);
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
        const [row] = await tx<{ db_user: string; updated_at: Date }[]>`
          UPDATE tenants
          SET db_password_encrypted = ${sealed}, credentials_version = credentials_version + 1, updated_at = now()
          WHERE id = ${id} RETURNING db_user, updated_at`;
        if (!row) throw notFound(id);
        await tx`SELECT tenantgate_set_role_password(${row.db_user}, ${verifier})`;
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
        await own.deprovision(await serverNamed(placed.server), placed.db_user, placed.data_name);
        await sql`DELETE FROM tenants WHERE id = ${id}`;
        return;
      }
      await sql.begin(async (tx) => {
        const [row] = await tx<{ db_user: string; model: string; data_name: string | null }[]>`
          DELETE FROM tenants WHERE id = ${id} RETURNING db_user, model, data_name`;
        if (!row) throw notFound(id);
        await modelOf(row.model).deprovision(tx, row.db_user, row.data_name);
      });
    },
  };
}

function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = err as { code?: unknown; constraint_name?: unknown };
  return e.code === '23505' && e.constraint_name === constraint;
}
