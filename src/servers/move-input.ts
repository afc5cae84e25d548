// Validates the body of POST /v1/admin/tenants/{id}/move: {"server": "<name>"} and nothing else. Whether
// the server is listed, and whether the tenant can go there, is the move's to say.
import { BadRequest } from '../errors.js';
import { SERVER_NAME } from './create-input.js';

export function parseMoveTenant(body: unknown): { server: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('invalid_body', 'the body must be a JSON object like {"server": "eu2"}', 'body');
  }
  for (const key of Object.keys(body)) {
    if (key !== 'server') throw new BadRequest('unknown_field', `unknown field ${JSON.stringify(key)}; only server is accepted`, key);
  }
  const server: unknown = (body as { server?: unknown }).server;
  if (typeof server !== 'string' || !SERVER_NAME.test(server)) {
    throw new BadRequest('invalid_field', 'server must be a server name: a lower-case letter, then up to 39 lower-case letters, digits or _', 'server');
  }
  return { server };
}
