// Tenant administration over HTTP (admin JWT required): create, list (search, filter, sort), get by id
// or by name, rotate, delete, move (between servers, or between Citus workers), isolate (Citus). Rotation and deletion close the tenant's cached pool here, so the next
// request logs in afresh.
import { Hono, type Context } from 'hono';
import type { CitusTenantOps } from '../citus/tenant-operations.js';
import { BadRequest, NotFound } from '../errors.js';
import { requireAdmin } from '../http/admin-auth.js';
import { readJsonBody } from '../http/json-body.js';
import { onlyMethods } from '../http/methods.js';
import { isUuid } from '../http/params.js';
import type { PoolRegistry } from '../pool/registry.js';
import { parseMoveTenant } from '../servers/move-input.js';
import type { TenantMoves } from '../servers/tenant-moves.js';
import type { TenantCatalog } from '../tenants/catalog.js';
import { parseCreateTenant } from '../tenants/create-input.js';
import { parseTenantLimits } from '../tenants/limits-input.js';
import { parseTenantListParams } from '../tenants/list-input.js';

export interface AdminDeps {
  readonly tenants: TenantCatalog;
  readonly moves: TenantMoves;
  /** Isolation and moves between workers of a Citus cluster. */
  readonly citusTenants: CitusTenantOps;
  readonly registry: PoolRegistry;
  readonly adminKey: Uint8Array;
  readonly bodyLimitBytes: number;
}

export function adminTenantRoutes(deps: AdminDeps): Hono {
  const app = new Hono();
  app.use('*', requireAdmin(deps.adminKey));

  app.post('/', async (c) => {
    const { name, model, server } = parseCreateTenant(await readJsonBody(c, deps.bodyLimitBytes));
    const tenant = await deps.tenants.create(name, model, server);
    return c.json(
      {
        id: tenant.id,
        name: tenant.name,
        db_user: tenant.db_user,
        status: tenant.status,
        server: tenant.server,
        model: tenant.model,
        created_at: tenant.created_at,
      },
      201,
    );
  });

  app.get('/:id', async (c) => {
    const id = tenantIdParam(c);
    const tenant = await deps.tenants.get(id);
    if (!tenant) throw new NotFound('tenant_not_found', `no tenant with id ${id}`);
    return c.json(tenant);
  });

  // Names are unique (tenants_name_key); percent-encode one with / or other reserved characters.
  app.get('/by-name/:name', async (c) => {
    const name = c.req.param('name');
    const tenant = await deps.tenants.findByName(name);
    if (!tenant) throw new NotFound('tenant_not_found', `no tenant named ${JSON.stringify(name)}`);
    return c.json(tenant);
  });

  app.get('/', async (c) => {
    const params = parseTenantListParams(c.req.queries());
    const { records, total } = await deps.tenants.list(params);
    const { page, pageSize } = params;
    return c.json({ records, page, page_size: pageSize, total, total_pages: Math.ceil(total / pageSize) });
  });

  app.post('/:id/rotate', async (c) => {
    const id = tenantIdParam(c);
    const rotatedAt = await deps.tenants.rotate(id);
    await deps.registry.evict(id);
    return c.json({ id, rotated_at: rotatedAt });
  });

  // Suspension and limits reach other instances through the change feed (sql/003); this instance acts
  // at once.
  for (const [action, status] of [
    ['suspend', 'suspended'],
    ['resume', 'active'],
  ] as const) {
    app.post(`/:id/${action}`, async (c) => {
      const id = tenantIdParam(c);
      const tenant = await deps.tenants.setStatus(id, status);
      await deps.registry.evict(id);
      return c.json({ id: tenant.id, status: tenant.status });
    });
  }

  app.patch('/:id', async (c) => {
    const id = tenantIdParam(c);
    const { rps, burst } = parseTenantLimits(await readJsonBody(c, deps.bodyLimitBytes));
    const tenant = await deps.tenants.setRateLimit(id, rps, burst);
    await deps.registry.evict(id);
    return c.json(tenant);
  });

  app.delete('/:id', async (c) => {
    const id = tenantIdParam(c);
    // Drain this instance's pool first so queries in flight finish, then drop the role (which ends any
    // session left anywhere), then close a pool a racing request may have opened meanwhile.
    await deps.registry.evict(id);
    await deps.tenants.remove(id);
    await deps.registry.evict(id);
    return c.body(null, 204);
  });

  // A move runs in the background (a large tenant takes minutes): 202 with its state, which GET follows.
  // To another server, or (Citus) to another worker of the tenant's cluster.
  app.post('/:id/move', async (c) => {
    const id = tenantIdParam(c);
    const target = parseMoveTenant(await readJsonBody(c, deps.bodyLimitBytes));
    const status = 'server' in target ? await deps.moves.start(id, target.server) : await deps.citusTenants.start(id, target.node);
    return c.json(status, 202);
  });

  app.get('/:id/move', (c) => {
    const id = tenantIdParam(c);
    // The latest of either kind this instance ran.
    const statuses = [deps.moves.status(id), deps.citusTenants.status(id)].filter((s) => s !== undefined);
    const status = statuses.sort((x, y) => y.started_at.getTime() - x.started_at.getTime())[0];
    if (!status) throw new NotFound('move_not_found', `this instance has not moved tenant ${id}`);
    return c.json(status);
  });

  // Citus: a row-model tenant gets a shard of its own (synchronous: Citus splits the shard it shared).
  app.post('/:id/isolate', async (c) => {
    const id = tenantIdParam(c);
    return c.json(await deps.citusTenants.isolate(id));
  });

  app.all('/', onlyMethods('GET', 'POST'));
  app.all('/by-name/:name', onlyMethods('GET'));
  app.all('/:id', onlyMethods('GET', 'PATCH', 'DELETE'));
  for (const action of ['rotate', 'suspend', 'resume', 'isolate']) app.all(`/:id/${action}`, onlyMethods('POST'));
  app.all('/:id/move', onlyMethods('GET', 'POST'));

  return app;
}

function tenantIdParam(c: Context): string {
  const id = c.req.param('id') ?? '';
  if (!isUuid(id)) throw new BadRequest('invalid_tenant_id', 'the tenant id in the path must be a UUID', 'id');
  return id.toLowerCase();
}
