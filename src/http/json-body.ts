// Reads a JSON request body: application/json only (415 otherwise), at most the configured size (413),
// valid JSON (400). Returns the parsed value for the route's own validation.
import type { Context } from 'hono';
import { BadRequest, PayloadTooLarge, UnsupportedMediaType } from '../errors.js';

const JSON_TYPE = /^application\/json\s*(;|$)/i;

export async function readJsonBody(c: Context, limitBytes: number): Promise<unknown> {
  const type = c.req.header('content-type');
  if (type === undefined || !JSON_TYPE.test(type)) {
    throw new UnsupportedMediaType('unsupported_media_type', 'the request body must be application/json');
  }
  const declared = c.req.header('content-length');
  if (declared !== undefined && Number(declared) > limitBytes) throw tooLarge(limitBytes);
  const bytes = await c.req.arrayBuffer();
  // A chunked body declares no length: check what actually arrived.
  if (bytes.byteLength > limitBytes) throw tooLarge(limitBytes);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new BadRequest('invalid_json', 'the request body is not valid UTF-8', 'body');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BadRequest('invalid_json', 'the request body is not valid JSON', 'body');
  }
}

function tooLarge(limitBytes: number): PayloadTooLarge {
  return new PayloadTooLarge('payload_too_large', `the request body must be at most ${limitBytes} bytes`);
}
