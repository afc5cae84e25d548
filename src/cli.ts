// The command line: the admin API's operations straight against the catalog database, plus `migrate`
// and `token admin`. Output is JSON on stdout (the token alone, so it can be captured); errors go to
// stderr with a non-zero exit code.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from './config.js';
import { withEnvFile } from './env-file.js';
import { connectCatalog } from './db/catalog.js';
import { migrate } from './db/migrate.js';
import { loadTenantMigrations, migrateTenantSchemas, tenantMigrationStatus, type TenantMigrations } from './db/tenant-migrations.js';
import { connectTenantDatabase } from './isolation/database.js';
import { isolationModels } from './isolation/models.js';
import { openDatabase } from './db/open.js';
import { AppError, BadRequest, NotFound } from './errors.js';
import { mintAdminToken } from './http/admin-auth.js';
import { isUuid, parsePositiveInteger } from './http/params.js';
import { createLogger, errorFacts } from './log.js';
import { resolveSecrets, type Secrets } from './secrets.js';
import { createTenantCatalog, type TenantCatalog } from './tenants/catalog.js';
import { parseCreateTenant } from './tenants/create-input.js';
import { parseTenantLimits } from './tenants/limits-input.js';
import { parseTenantListParams } from './tenants/list-input.js';
import { rekeyAll } from './tenants/rekey.js';
import { createServerCatalog } from './servers/catalog.js';
import { createServerConnections, type ServerConnections } from './servers/connections.js';
import { parseCreateServer } from './servers/create-input.js';
import { parseMoveTenant } from './servers/move-input.js';
import { createTenantMoves } from './servers/tenant-moves.js';
import { formatNode } from './citus/node-address.js';
import { createCitusTenantOps } from './citus/tenant-operations.js';
import { serverStatus } from './servers/status.js';
import { createClusterView } from './citus/cluster-view.js';
import { formatServers, formatTenantLocation } from './citus/cluster-text.js';
import type { Sql } from 'postgres';

const USAGE = `usage: npm run cli -- <command>
  tenant create <name> [--model rls|schema|database] [--server NAME]
                                    create a tenant (row, role, sealed password) on the server named,
                                    else on the one with the fewest tenants
  tenant create-many <prefix> <n> [--model rls|schema|database] [--server NAME]
                                    create n tenants named <prefix>-000001… in bulk
  tenant list [--page N] [--page-size N] [--search TEXT] [--status active|suspended]
              [--sort-column name|created_at|updated_at|status|id] [--sort-direction ascending|descending]
  tenant get <tenant>               one tenant
  tenant rotate <tenant>            new role password
  tenant suspend <tenant>           refuse the tenant's requests (403) and close its pools
  tenant resume <tenant>            serve it again
  tenant limit <tenant> --rps N [--burst M] | --clear   per-tenant rate limit
  tenant delete <tenant>            drop the tenant's rows and role
  tenant move <tenant> --server NAME
                                    move its data to another server while it is served (rls, schema);
                                    prints each step, then the report (pause, rows, times)
  tenant move <tenant> --node HOST:PORT
                                    Citus: move its shard (rls; isolated first if shared) or its schema
                                    to another worker of its cluster while it is served
  tenant isolate <tenant>           Citus: give an rls tenant a shard of its own (no-op if it has one)
  (<tenant>: its id or its name)
  servers add <name> <url> --max-connections N
                                    add a data server (postgres://owner:password@host:port/database): the
                                    gateway migrates it and sets up its shared role; the password is sealed
  servers list                      the servers, their tenants, budgets and health
  servers remove <name>             remove a server no tenant lives on (not main)
  cluster status [--tenant TENANT] [--json]
                                    the Citus servers: nodes and their health, tables, shards per node,
                                    worker connections, tenant activity; with --tenant, where that tenant
                                    lives (node, shards, schema); text unless --json (the API's answer)
  token admin [--ttl SECONDS]       print an admin JWT (default 3600 s)
  keys rotate                       re-seal every stored password under the newest CREDENTIALS_KEYS key (resumable)
  migrate [--concurrency N] [--canary N]
                                    apply catalog migrations, then tenant-data migrations to every tenant
                                    schema and database (N at once, default 4; --canary: N tenants first,
                                    stop if one fails)
  migrate status                    tenant schemas and databases per version, how many are behind, which failed`;

class UsageError extends Error {}

async function withCatalog<T>(
  config: Config,
  secrets: Secrets,
  fn: (tenants: TenantCatalog, sql: Sql, migrations: TenantMigrations, servers: ServerConnections) => Promise<T>,
  connections = 2,
): Promise<T> {
  const migrations = await loadTenantMigrations();
  const models = isolationModels(migrations);
  // Tenants on data servers are created, rotated and removed there, through the servers' owners.
  return withServers(
    config,
    secrets,
    (sql, servers) => fn(createTenantCatalog(sql, secrets.keys, { models, defaultModel: config.tenantModel, servers }), sql, migrations, servers),
    connections,
  );
}

async function withServers<T>(config: Config, secrets: Secrets, fn: (sql: Sql, servers: ServerConnections) => Promise<T>, connections = 2): Promise<T> {
  return withDatabase(
    config,
    secrets,
    async (sql, url) => {
      const servers = createServerConnections(sql, secrets.keys, { mainUrl: url, connectTimeoutSeconds: config.pool.connectTimeoutSeconds });
      try {
        return await fn(sql, servers);
      } finally {
        await servers.close();
      }
    },
    connections,
  );
}

async function withDatabase<T>(config: Config, secrets: Secrets, fn: (sql: Sql, url: string) => Promise<T>, connections = 2): Promise<T> {
  const logger = createLogger('warn');
  const database = await openDatabase(config, secrets, logger);
  const sql = connectCatalog(database.url, { max: connections, connectTimeoutSeconds: config.pool.connectTimeoutSeconds, applicationName: 'tenantgate-cli' });
  try {
    await migrate(sql);
    return await fn(sql, database.url);
  } finally {
    await sql.end({ timeout: 5 });
    await database.stop();
  }
}

/** Decimal digits only: Number() would read '' as 0 (unlimited) and '0x10' as 16. */
function wholeNumber(option: string, value: string | undefined): number {
  if (value === undefined || !/^\d{1,7}$/.test(value)) throw new UsageError(`${option} must be a whole number`);
  return Number(value);
}

/** --model and --server as the API's `model` and `server` fields, validated by the same parser. */
function placementOptions(values: { model?: string | undefined; server?: string | undefined }): { model?: string; server?: string } {
  return { ...(values.model === undefined ? {} : { model: values.model }), ...(values.server === undefined ? {} : { server: values.server }) };
}

function tenantRef(value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError('a tenant id or name is required');
  return value;
}

/** A tenant's id from its id or its name (an id is tried first; a name that looks like an id still works). */
async function resolveTenantId(t: TenantCatalog, ref: string): Promise<string> {
  if (isUuid(ref)) {
    const byId = await t.get(ref.toLowerCase());
    if (byId) return byId.id;
  }
  const byName = await t.findByName(ref);
  if (byName) return byName.id;
  throw new NotFound('tenant_not_found', `no tenant with id or name ${JSON.stringify(ref)}`);
}

async function run(argv: string[]): Promise<unknown> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      page: { type: 'string' },
      'page-size': { type: 'string' },
      ttl: { type: 'string' },
      rps: { type: 'string' },
      burst: { type: 'string' },
      clear: { type: 'boolean' },
      model: { type: 'string' },
      server: { type: 'string' },
      node: { type: 'string' },
      'max-connections': { type: 'string' },
      concurrency: { type: 'string' },
      canary: { type: 'string' },
      search: { type: 'string' },
      status: { type: 'string' },
      'sort-column': { type: 'string' },
      'sort-direction': { type: 'string' },
      tenant: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const [group, command, arg] = positionals;
  const config = loadConfig(withEnvFile(process.env));
  const secrets = await resolveSecrets(config);
  if (group === 'token' && command === 'admin') {
    const ttl = values.ttl === undefined ? 3600 : parsePositiveInteger('--ttl', values.ttl, 31_536_000);
    return mintAdminToken(secrets.adminKey, ttl);
  }
  if (group === 'keys' && command === 'rotate') {
    return withServers(config, secrets, async (sql, servers) => rekeyAll(sql, secrets.keys, { servers }));
  }
  if (group === 'migrate') {
    if (command === 'status') return withCatalog(config, secrets, (_t, sql, migrations) => tenantMigrationStatus(sql, migrations));
    if (command !== undefined) throw new UsageError(`unknown migrate command ${command}`);
    const concurrency = values.concurrency === undefined ? 4 : parsePositiveInteger('--concurrency', values.concurrency, 64);
    const canary = values.canary === undefined ? 0 : parsePositiveInteger('--canary', values.canary, 1_000_000);
    // Catalog migrations ran on connecting; now every tenant schema, each tenant on its own connection.
    const run = await withCatalog(
      config,
      secrets,
      async (_t, sql, migrations, servers) => {
        // Database tenants: an owner's connection to each one's database, on its server.
        const openDatabase = async (server: string, database: string): Promise<Sql> => connectTenantDatabase((await servers.record(server)).url, database);
        return {
          latest: migrations.latest,
          ...(await migrateTenantSchemas(sql, migrations, { concurrency, canary, openDatabase, openServer: (name) => servers.admin(name) })),
        };
      },
      concurrency + 1,
    );
    if (run.failed.length > 0) process.exitCode = 1;
    return { migrated: true, tenants: run };
  }
  if (group === 'cluster') {
    if (command !== 'status') throw new UsageError(`unknown cluster command ${command ?? ''}`.trim());
    return clusterStatus(config, secrets, values.tenant, values.json === true);
  }
  if (group === 'servers') return serverCommand(config, secrets, command, positionals.slice(2), values['max-connections']);
  if (group !== 'tenant') throw new UsageError(`unknown command ${group ?? ''}`.trim());
  switch (command) {
    case 'create': {
      const { name, model, server } = parseCreateTenant({ name: arg, ...placementOptions(values) });
      return withCatalog(config, secrets, (t) => t.create(name, model, server));
    }
    case 'create-many': {
      const count = parsePositiveInteger('count', positionals[3] ?? '', 1_000_000);
      const { name: last, model, server } = parseCreateTenant({ name: `${arg ?? ''}-${String(count).padStart(6, '0')}`, ...placementOptions(values) });
      const prefix = last.slice(0, -7);
      const names = Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(6, '0')}`);
      const started = Date.now();
      return withCatalog(config, secrets, async (t) => {
        const created = await t.createMany(names, model, server);
        return { created: created.length, first: created[0]?.id, seconds: (Date.now() - started) / 1000 };
      });
    }
    case 'list': {
      // The flags are the HTTP list's parameters, validated by the same parser.
      const query: Record<string, string[]> = {};
      const flags = {
        page: values.page,
        page_size: values['page-size'],
        search: values.search,
        status: values.status,
        sort_column: values['sort-column'],
        sort_direction: values['sort-direction'],
      };
      for (const [name, value] of Object.entries(flags)) if (value !== undefined) query[name] = [value];
      const params = parseTenantListParams(query);
      return withCatalog(config, secrets, (t) => t.list(params));
    }
    case 'get': {
      const ref = tenantRef(arg);
      return withCatalog(config, secrets, async (t) => (await t.get(await resolveTenantId(t, ref))) ?? null);
    }
    case 'rotate': {
      const ref = tenantRef(arg);
      return withCatalog(config, secrets, async (t) => {
        const id = await resolveTenantId(t, ref);
        return { id, rotated_at: await t.rotate(id) };
      });
    }
    case 'suspend':
    case 'resume': {
      const ref = tenantRef(arg);
      const status = command === 'suspend' ? 'suspended' : 'active';
      return withCatalog(config, secrets, async (t) => {
        const tenant = await t.setStatus(await resolveTenantId(t, ref), status);
        return { id: tenant.id, status: tenant.status };
      });
    }
    case 'limit': {
      const ref = tenantRef(arg);
      if (!values.clear && values.rps === undefined) throw new UsageError('tenant limit needs --rps N (and optionally --burst M), or --clear');
      const limits = values.clear
        ? { rate_limit_rps: null, rate_limit_burst: null }
        : { rate_limit_rps: wholeNumber('--rps', values.rps), rate_limit_burst: values.burst === undefined ? null : wholeNumber('--burst', values.burst) };
      const { rps, burst } = parseTenantLimits(limits);
      return withCatalog(config, secrets, async (t) => t.setRateLimit(await resolveTenantId(t, ref), rps, burst));
    }
    case 'delete': {
      const ref = tenantRef(arg);
      return withCatalog(config, secrets, async (t) => {
        const id = await resolveTenantId(t, ref);
        await t.remove(id);
        return { id, deleted: true };
      });
    }
    case 'move': {
      const ref = tenantRef(arg);
      const target = parseMoveTenant({
        ...(values.server === undefined ? {} : { server: values.server }),
        ...(values.node === undefined ? {} : { node: values.node }),
      });
      if ('node' in target) {
        return withCatalog(config, secrets, async (t, sql, _migrations, servers) => {
          const id = await resolveTenantId(t, ref);
          const citus = createCitusTenantOps(sql, servers, { connectTimeoutSeconds: config.pool.connectTimeoutSeconds });
          const report = await citus.run(id, target.node, (step) => process.stderr.write(`move ${id}: ${step}\n`));
          return { id, node: formatNode(target.node), report };
        });
      }
      const { server } = target;
      // The gateway's grace (src/gateway.ts): instances that missed the change re-read within the cache
      // TTL, and a statement under way ends within its deadline.
      const graceMs = (config.pool.tenantCacheTtlSeconds + config.pool.connectTimeoutSeconds) * 1000 + config.pool.queryTimeoutMs + 1000;
      return withCatalog(
        config,
        secrets,
        async (t, sql, migrations, servers) => {
          const id = await resolveTenantId(t, ref);
          const moves = createTenantMoves(sql, secrets.keys, servers, isolationModels(migrations), {
            graceMs,
            connectTimeoutSeconds: config.pool.connectTimeoutSeconds,
          });
          const report = await moves.run(id, server, (step) => process.stderr.write(`move ${id}: ${step}\n`));
          return { id, server, report };
        },
        4,
      );
    }
    case 'isolate': {
      const ref = tenantRef(arg);
      return withCatalog(config, secrets, async (t, sql, _migrations, servers) =>
        createCitusTenantOps(sql, servers, { connectTimeoutSeconds: config.pool.connectTimeoutSeconds }).isolate(await resolveTenantId(t, ref)),
      );
    }
    default:
      throw new UsageError(`unknown tenant command ${command ?? ''}`.trim());
  }
}

/** `servers add|list|remove`: the admin API's server operations, answered in the same shapes. */
async function serverCommand(
  config: Config,
  secrets: Secrets,
  command: string | undefined,
  args: string[],
  maxConnections: string | undefined,
): Promise<unknown> {
  const catalogOf = (sql: Sql) => createServerCatalog(sql, secrets.keys, { connectTimeoutSeconds: config.pool.connectTimeoutSeconds });
  switch (command) {
    case 'add': {
      const [name, url] = args;
      if (maxConnections === undefined) throw new UsageError('servers add needs --max-connections N');
      const input = parseCreateServer({ name, url, max_connections: wholeNumber('--max-connections', maxConnections) });
      return withServers(config, secrets, async (sql, servers) => serverStatus({ servers, probeTimeoutMs: 1000 })(await catalogOf(sql).add(input)));
    }
    case 'list':
      return withServers(config, secrets, async (sql, servers) => {
        const status = serverStatus({ servers, probeTimeoutMs: 1000 });
        return { records: await Promise.all((await catalogOf(sql).list()).map(status)) };
      });
    case 'remove': {
      const [name] = args;
      if (name === undefined || name === '') throw new UsageError('servers remove needs a server name');
      return withDatabase(config, secrets, async (sql) => {
        await catalogOf(sql).remove(name);
        return { name, removed: true };
      });
    }
    default:
      throw new UsageError(`unknown servers command ${command ?? ''}`.trim());
  }
}

/** `cluster status`: GET /v1/admin/cluster's answer, as text or (--json) as the API gives it. */
async function clusterStatus(config: Config, secrets: Secrets, tenant: string | undefined, json: boolean): Promise<unknown> {
  if (tenant !== undefined && tenant === '') throw new UsageError('--tenant needs a tenant id or name');
  return withServers(config, secrets, async (sql, servers) => {
    const serverCatalog = createServerCatalog(sql, secrets.keys, { connectTimeoutSeconds: config.pool.connectTimeoutSeconds });
    const cluster = createClusterView({ catalog: sql, serverCatalog, servers, probeTimeoutMs: 1000, connectTimeoutSeconds: config.pool.connectTimeoutSeconds });
    if (tenant !== undefined) {
      const models = isolationModels(await loadTenantMigrations());
      const id = await resolveTenantId(createTenantCatalog(sql, secrets.keys, { models, defaultModel: config.tenantModel, servers }), tenant);
      const location = await cluster.tenant(id);
      return json ? location : formatTenantLocation(location);
    }
    const all = await cluster.servers();
    return json ? { servers: all } : formatServers(all);
  });
}

run(process.argv.slice(2)).then(
  (result) => {
    process.stdout.write((typeof result === 'string' ? result : JSON.stringify(result, null, 2)) + '\n');
  },
  (err: unknown) => {
    if (
      err instanceof UsageError ||
      err instanceof BadRequest ||
      (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      process.stderr.write(`error: ${err.message}\n${USAGE}\n`);
      process.exitCode = 2;
    } else if (err instanceof AppError || err instanceof ConfigError) {
      process.stderr.write(`error: ${err instanceof AppError ? `${err.code}: ` : ''}${err.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`error: ${errorFacts(err).message}\n`);
      process.exitCode = 1;
    }
  },
);
