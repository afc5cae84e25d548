// Server administration (src/routes/admin-servers.ts): the answers' schemas and the operations.
import { z } from 'zod';
import { createServerSchema } from '../../servers/request-schemas.js';
import type { NamedSchema, Operation } from '../operation.js';

const server: NamedSchema = {
  name: 'Server',
  schema: z.strictObject({
    name: z.string(),
    url: z.string().nullable().describe("the owner's URL without its password; null for main (the gateway's DATABASE_URL)"),
    max_connections: z.int().nullable().describe("this instance's connection budget on the server; null for main (MAX_CONNECTIONS_TOTAL)"),
    tenants: z.int().min(0).describe('tenants placed on it'),
    created_at: z.string().meta({ format: 'date-time' }),
    health: z.enum(['up', 'down']).describe('whether it answered `SELECT 1` within a second, just now'),
    pools: z
      .strictObject({
        shared_in_use: z.int().min(0).describe('shared-pool connections running a statement'),
        dedicated_open: z.int().min(0).describe('dedicated tenant pools open'),
        waiting: z.int().min(0).describe('requests waiting for a connection'),
        budget_reserved: z.int().min(0).describe('connections reserved (owner, shared pool, dedicated pools)'),
        budget_total: z.int().min(1),
      })
      .nullable()
      .describe("this instance's pools on the server; null until a request for one of its tenants built them"),
  }),
};

const example = {
  name: 'eu2',
  url: 'postgres://tenantgate@db-eu2.internal:5432/tenantgate',
  max_connections: 50,
  tenants: 12,
  created_at: '2026-12-01T19:30:00.000Z',
  health: 'up',
  pools: { shared_in_use: 1, dedicated_open: 2, waiting: 0, budget_reserved: 24, budget_total: 50 },
};
const main = { name: 'main', url: null, max_connections: null, tenants: 40, created_at: '2026-11-24T17:22:53.182Z', health: 'up', pools: example.pools };

const nameParam = z.object({ name: z.string().min(1).describe("the server's name") });

export const adminServerOperations: readonly Operation[] = [
  {
    method: 'post',
    path: '/v1/admin/servers',
    operationId: 'addServer',
    tag: 'Servers',
    summary: 'Add a data server: reach it, apply the migrations and set up the shared role there, then list it',
    description:
      "Tenants can be placed on it from then on (the `server` field of tenant creation, or the placement policy). The URL's password is sealed with CREDENTIALS_KEY and never shown or logged.",
    access: 'admin',
    body: {
      schema: { name: 'CreateServer', schema: createServerSchema },
      example: { name: 'eu2', url: 'postgres://tenantgate:secret@db-eu2.internal:5432/tenantgate', max_connections: 50 },
    },
    replies: { 201: { description: 'the server added', body: server, example: { ...example, tenants: 0, pools: null } } },
    errors: ['server_exists', 'server_unreachable', 'server_refused'],
  },
  {
    method: 'get',
    path: '/v1/admin/servers',
    operationId: 'listServers',
    tag: 'Servers',
    summary: 'List the servers (main first) with their tenant counts, budgets, health and pools',
    access: 'admin',
    replies: {
      200: {
        description: 'every server; each is probed in parallel',
        body: { name: 'ServerList', schema: z.strictObject({ records: z.array(server.schema) }) },
        example: { records: [main, example] },
      },
    },
  },
  {
    method: 'get',
    path: '/v1/admin/servers/{name}',
    operationId: 'getServer',
    tag: 'Servers',
    summary: 'Read a server',
    access: 'admin',
    pathParams: nameParam,
    replies: { 200: { description: 'the server', body: server, example } },
    errors: ['server_not_found'],
  },
  {
    method: 'delete',
    path: '/v1/admin/servers/{name}',
    operationId: 'removeServer',
    tag: 'Servers',
    summary: 'Remove a server from the catalog (refused for main and while tenants live on it)',
    description: 'The server itself is left as it is: its database, migrations and shared role stay.',
    access: 'admin',
    pathParams: nameParam,
    replies: { 204: { description: 'removed' } },
    errors: ['server_not_found', 'server_in_use'],
  },
];
