// The body of POST /v1/admin/servers as a zod schema, for the API document: what parseCreateServer
// accepts (test/unit/request-schemas.test.ts holds them equal). Not beside the parser: the CLI loads
// that, and importing zod costs it ~150 ms at every start.
import { z } from 'zod';
import { NODE_ADDRESS } from '../citus/node-address.js';
import { MAX_SERVER_CONNECTIONS, MAX_SERVER_URL_LENGTH, MIN_SERVER_CONNECTIONS, SERVER_NAME, SERVER_URL_TEXT } from './create-input.js';

export const serverNameSchema = z.string().regex(SERVER_NAME);

export const createServerSchema = z
  .strictObject({
    name: serverNameSchema.describe('unique: a lower-case letter, then up to 39 lower-case letters, digits or _'),
    url: z
      .string()
      .max(MAX_SERVER_URL_LENGTH)
      .regex(SERVER_URL_TEXT)
      .describe('postgres://owner:password@host:port/database: a role that owns the database and may create roles; the password is sealed and never shown'),
    max_connections: z
      .int()
      .min(MIN_SERVER_CONNECTIONS)
      .max(MAX_SERVER_CONNECTIONS)
      .describe("this gateway instance's connection budget on the server (owner connections, shared pool, dedicated pools)"),
  })
  .describe('A data server: the gateway reaches it, applies its migrations and sets up its shared role before listing it.');

export const moveTenantSchema = z
  .union([
    z.strictObject({ server: serverNameSchema.describe('the server to move the tenant to (GET /v1/admin/servers)') }),
    z.strictObject({
      node: z.string().regex(NODE_ADDRESS).describe("a worker of the tenant's Citus cluster, host:port as in pg_dist_node ([address]:port for IPv6)"),
    }),
  ])
  .describe(
    "Moves the tenant's data while it is served, either to another server (`server`) or, on a Citus cluster, to another worker (`node`: Citus moves its shard, isolated first if shared, or its schema, by logical replication); its writes pause for the cutover only.",
  );
