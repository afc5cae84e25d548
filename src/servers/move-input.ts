// Validates the body of POST /v1/admin/tenants/{id}/move: {"server": "<name>"} to move the tenant to
// another server, or {"node": "host:port"} to move it to another worker of its Citus cluster; exactly
// one of the two. Whether the server or node exists, and whether the tenant can go there, is the
// move's to say.
import { parseNodeAddress, type NodeAddress } from '../citus/node-address.js';
import { BadRequest } from '../errors.js';
import { SERVER_NAME } from './create-input.js';

export type MoveTarget = { readonly server: string } | { readonly node: NodeAddress };

const ONE_OF =
  'the body must name exactly one of server (another server: {"server": "eu2"}) or node (a worker of its Citus cluster: {"node": "10.0.0.7:5432"})';

export function parseMoveTenant(body: unknown): MoveTarget {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('invalid_body', 'the body must be a JSON object like {"server": "eu2"} or {"node": "10.0.0.7:5432"}', 'body');
  }
  for (const key of Object.keys(body)) {
    if (key !== 'server' && key !== 'node') throw new BadRequest('unknown_field', `unknown field ${JSON.stringify(key)}; only server or node is accepted`, key);
  }
  const { server, node } = body as { server?: unknown; node?: unknown };
  if ((server === undefined) === (node === undefined)) throw new BadRequest('invalid_body', ONE_OF, 'server, node');
  if (node !== undefined) {
    const address = typeof node === 'string' ? parseNodeAddress(node) : undefined;
    if (address === undefined) {
      throw new BadRequest('invalid_field', 'node must be a Citus node as host:port (as in pg_dist_node; [address]:port for IPv6)', 'node');
    }
    return { node: address };
  }
  if (typeof server !== 'string' || !SERVER_NAME.test(server)) {
    throw new BadRequest('invalid_field', 'server must be a server name: a lower-case letter, then up to 39 lower-case letters, digits or _', 'server');
  }
  return { server };
}
