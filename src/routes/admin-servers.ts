// Server administration over HTTP (admin JWT required): add a data server, list the servers with their
// health and pools, read one, remove an empty one. A server's URL is shown without its password, and
// its password is never logged.
import { Hono } from 'hono';
import { NotFound } from '../errors.js';
import { requireAdmin } from '../http/admin-auth.js';
import { readJsonBody } from '../http/json-body.js';
import { onlyMethods } from '../http/methods.js';
import type { Logger } from '../log.js';
import type { ServerCatalog } from '../servers/catalog.js';
import type { ServerConnections } from '../servers/connections.js';
import { parseCreateServer } from '../servers/create-input.js';
import type { PoolSets } from '../servers/pool-sets.js';
import { serverStatus } from '../servers/status.js';

export interface AdminServerDeps {
  readonly serverCatalog: ServerCatalog;
  readonly servers: ServerConnections;
  readonly poolSets: PoolSets;
  readonly adminKey: Uint8Array;
  readonly bodyLimitBytes: number;
  readonly logger: Logger;
}

/** A listing waits at most this long for a server that does not answer (they are probed in parallel). */
const PROBE_TIMEOUT_MS = 1000;

export function adminServerRoutes(deps: AdminServerDeps): Hono {
  const app = new Hono();
  app.use('*', requireAdmin(deps.adminKey));
  const status = serverStatus({ servers: deps.servers, poolSets: deps.poolSets, probeTimeoutMs: PROBE_TIMEOUT_MS });

  const find = async (name: string) => {
    const info = await deps.serverCatalog.get(name);
    if (!info) throw new NotFound('server_not_found', `no server named ${JSON.stringify(name)}`);
    return info;
  };

  app.post('/', async (c) => {
    const input = parseCreateServer(await readJsonBody(c, deps.bodyLimitBytes));
    const info = await deps.serverCatalog.add(input);
    deps.logger.info({ server: info.name, url: info.url, maxConnections: info.max_connections }, 'server added');
    return c.json(await status(info), 201);
  });

  app.get('/', async (c) => {
    const all = await deps.serverCatalog.list();
    return c.json({ records: await Promise.all(all.map(status)) });
  });

  app.get('/:name', async (c) => c.json(await status(await find(c.req.param('name')))));

  app.delete('/:name', async (c) => {
    const name = c.req.param('name');
    await deps.serverCatalog.remove(name);
    // Its tenants are gone (or it could not have been removed): this instance's pools and owner
    // connection to it are of no further use. Other instances keep theirs open until they restart, but
    // no request can reach them any more.
    await deps.poolSets.drop(name);
    await deps.servers.forget(name);
    deps.logger.info({ server: name }, 'server removed');
    return c.body(null, 204);
  });

  app.all('/', onlyMethods('GET', 'POST'));
  app.all('/:name', onlyMethods('GET', 'DELETE'));
  return app;
}
