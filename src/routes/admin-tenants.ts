// Tenant administration over HTTP (admin JWT required): create, list, rotate, delete. Rotation and
// deletion close the tenant's cached pool here, so the next request logs in afresh.
import { Hono, type Context } from 'hono';
import { BadRequest, NotFound } from '../errors.js';
import { requireAdmin } from '../http/admin-auth.js';
import { readJsonBody } from '../http/json-body.js';
import { isUuid, parsePositiveInteger } from '../http/params.js';
import type { PoolRegistry } from '../pool/registry.js';
import type { TenantCatalog } from '../tenants/catalog.js';
import { parseCreateTenant } from '../tenants/create-input.js';
import { parseTenantLimits } from '../tenants/limits-input.js';

export interface AdminDeps {
  readonly tenants: TenantCatalog;
  readonly registry: PoolRegistry;
  readonly adminKey: Uint8Array;
  readonly bodyLimitBytes: number;
}

export function adminTenantRoutes(deps: AdminDeps): Hono {
  const app = new Hono();
  app.use('*', requireAdmin(deps.adminKey));

  app.post('/', async (c) => {
    const { name, model } = parseCreateTenant(await readJsonBody(c, deps.bodyLimitBytes));
    const tenant = await deps.tenants.create(name, model);
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

  app.get('/', async (c) => {
    const { page, pageSize } = parsePaging(c.req.queries());
    const { records, total } = await deps.tenants.list(page, pageSize);
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
  for (const [action, status] of [['suspend', 'suspended'], ['resume', 'active']] as const) {
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

  return app;
}

function tenantIdParam(c: Context): string {
  const id = c.req.param('id') ?? '';
  if (!isUuid(id)) throw new BadRequest('invalid_tenant_id', 'the tenant id in the path must be a UUID', 'id');
  return id.toLowerCase();
}

function parsePaging(query: Record<string, string[]>): { page: number; pageSize: number } {
  for (const [name, values] of Object.entries(query)) {
    if (name !== 'page' && name !== 'page_size') {
      throw new BadRequest('unknown_parameter', `unknown query parameter ${JSON.stringify(name)}; allowed: page, page_size`, name);
    }
    if (values.length > 1) throw new BadRequest('duplicate_parameter', `${name} must be given at most once`, name);
  }
  const page = query.page?.[0];
  const pageSize = query.page_size?.[0];
  return {
    page: page === undefined ? 1 : parsePositiveInteger('page', page, 1_000_000),
    pageSize: pageSize === undefined ? 50 : parsePositiveInteger('page_size', pageSize, 1000),
  };
}
