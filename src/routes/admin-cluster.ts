// The cluster's state over HTTP (admin JWT required): GET /v1/admin/cluster lists every server with, for
// a Citus coordinator, its nodes and their health, tables, shards per node and tenant activity;
// ?tenant=<id> answers where that tenant lives instead (src/citus/cluster-view.ts).
import { Hono } from 'hono';
import { requireAdmin } from '../http/admin-auth.js';
import { onlyMethods } from '../http/methods.js';
import type { ClusterView } from '../citus/cluster-view.js';
import { parseClusterQuery } from '../citus/cluster-query.js';

export interface AdminClusterDeps {
  readonly cluster: ClusterView;
  readonly adminKey: Uint8Array;
}

export function adminClusterRoutes(deps: AdminClusterDeps): Hono {
  const app = new Hono();
  app.use('*', requireAdmin(deps.adminKey));
  app.get('/', async (c) => {
    const { tenant } = parseClusterQuery(c.req.queries());
    if (tenant !== undefined) return c.json(await deps.cluster.tenant(tenant));
    return c.json({ servers: await deps.cluster.servers() });
  });
  app.all('/', onlyMethods('GET'));
  return app;
}
