// Reads a JSON request body: application/json only (415 otherwise), at most the configured size (413),
// valid JSON (400). Returns the parsed value for the route's own validation.
import type { Context } from 'hono';
import { BadRequest, ClientClosedRequest, PayloadTooLarge, UnsupportedMediaType } from '../errors.js';

const JSON_TYPE = /^application\/json\s*(;|$)/i;

export async function readJsonBody(c: Context, limitBytes: number): Promise<unknown> {
  const type = c.req.header('content-type');
  if (type === undefined || !JSON_TYPE.test(type)) {
    throw new UnsupportedMediaType('unsupported_media_type', 'the request body must be application/json');
  }
  const declared = c.req.header('content-length');
  if (declared !== undefined && Number(declared) > limitBytes) throw tooLarge(limitBytes);
  const bytes = await readAtMost(c.req.raw.body, limitBytes);
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

/**
 * Reads the body but stops, and refuses, as soon as more than `limit` bytes have arrived: a chunked
 * body declares no length, and buffering an endless one would let a single request hold any amount
 * of memory.
 */
async function readAtMost(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    // A socket closed mid-body (ECONNRESET, aborted) is the client's doing, not the database's.
    const { done, value } = await reader.read().catch(() => {
      throw new ClientClosedRequest('client_closed_request', 'the client closed the connection before the request body arrived');
    });
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

function tooLarge(limitBytes: number): PayloadTooLarge {
  return new PayloadTooLarge('payload_too_large', `the request body must be at most ${limitBytes} bytes`);
}
