// Validates the body of POST /v1/admin/servers: {"name", "url", "max_connections"}, all required, nothing
// else. The URL is only checked to be text here; its parts are checked where it is split
// (./server-url.ts), and whether the server answers is the catalog's to find out (422).
import { BadRequest } from '../errors.js';

/** The shape of a server's name (sql/013). */
export const SERVER_NAME = /^[a-z][a-z0-9_]{0,39}$/;
export const MAX_SERVER_URL_LENGTH = 2048;
/** Visible ASCII: anything else in a URL (a space, a non-ASCII password) must be percent-encoded. */
export const SERVER_URL_TEXT = /^[\x21-\x7e]+$/;
/** The range sql/013 allows: a data server needs its owner connections and a shared pool at least. */
export const MIN_SERVER_CONNECTIONS = 4;
export const MAX_SERVER_CONNECTIONS = 100_000;

export interface CreateServerInput {
  readonly name: string;
  readonly url: string;
  readonly maxConnections: number;
}

const FIELDS = ['name', 'url', 'max_connections'];

export function parseCreateServer(body: unknown): CreateServerInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('invalid_body', 'the body must be a JSON object like {"name": "eu2", "url": "postgres://…", "max_connections": 50}', 'body');
  }
  for (const key of Object.keys(body)) {
    if (!FIELDS.includes(key)) throw new BadRequest('unknown_field', `unknown field ${JSON.stringify(key)}; accepted: ${FIELDS.join(', ')}`, key);
  }
  const fields = body as { name?: unknown; url?: unknown; max_connections?: unknown };
  if (typeof fields.name !== 'string' || !SERVER_NAME.test(fields.name)) {
    throw new BadRequest('invalid_field', 'name must be a server name: a lower-case letter, then up to 39 lower-case letters, digits or _', 'name');
  }
  if (typeof fields.url !== 'string' || fields.url.length > MAX_SERVER_URL_LENGTH || !SERVER_URL_TEXT.test(fields.url)) {
    throw new BadRequest(
      'invalid_field',
      `url must be a postgres:// URL of at most ${MAX_SERVER_URL_LENGTH} visible ASCII characters (percent-encode others)`,
      'url',
    );
  }
  const max = fields.max_connections;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < MIN_SERVER_CONNECTIONS || max > MAX_SERVER_CONNECTIONS) {
    throw new BadRequest('invalid_field', `max_connections must be an integer from ${MIN_SERVER_CONNECTIONS} to ${MAX_SERVER_CONNECTIONS}`, 'max_connections');
  }
  return { name: fields.name, url: fields.url, maxConnections: max };
}
