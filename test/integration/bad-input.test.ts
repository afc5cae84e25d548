// Hostile and malformed input against a real gateway: arbitrary query strings and JSON bodies (property
// based, seeded), oversized and mistyped bodies, broken HTTP, odd headers, Unicode edge cases and SQL
// in every parameter. Every answer is a success or a JSON 4xx (never a 5xx or a dropped connection),
// and nothing is stored that a 201 did not report.
import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerClientErrors } from '../../src/http/client-errors.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { expectError } from '../support/http.js';

const USERS = '/v1/internal/users';
const BODY_LIMIT = 16_384;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PAGE_KEYS = ['next_cursor', 'page', 'page_size', 'records', 'total', 'total_exact', 'total_pages'];
const RUNS = 200;
const SEED = 20_241_124;

interface UserJson {
  id: string;
  first_name: string;
  last_name: string;
}

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ bodyLimitBytes: BODY_LIMIT });
});
afterAll(async () => {
  await gw?.close();
});

function list(tenantId: string, query: string): Promise<Response> {
  return gw.request(`${USERS}?${query}`, { headers: { 'x-tenant-id': tenantId } });
}

/** POSTs the body as is; `contentType` null sends no content-type header at all. */
function postText(tenantId: string, body: string | Uint8Array, contentType: string | null = 'application/json'): Promise<Response> {
  const headers: Record<string, string> = { 'x-tenant-id': tenantId };
  if (contentType !== null) headers['content-type'] = contentType;
  return fetch(gw.url + USERS, { method: 'POST', headers, body });
}

/** Asserts the gateway's error shape and returns the code. */
function errorCode(status: number, contentType: string | null, text: string): string {
  expect(contentType, text).toMatch(/^application\/json/);
  const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
  expect(Object.keys(body), text).toEqual(['error']);
  expect(Object.keys(body.error ?? {}).sort(), text).toEqual(['code', 'message']);
  expect(body.error?.code, text).toEqual(expect.any(String));
  expect(body.error?.message, text).toEqual(expect.any(String));
  expect(status).toBeGreaterThanOrEqual(400);
  return body.error?.code as string;
}

async function storedUsers(tenantId: string): Promise<UserJson[]> {
  return gw.adminOf(tenantId)<UserJson[]>`
    SELECT id::text AS id, first_name, last_name FROM ${gw.usersOf(tenantId)} WHERE tenant_id = ${tenantId} ORDER BY id`;
}

async function usersTableIntact(): Promise<{ exists: boolean; rls: boolean; total: number }> {
  const [row] = await gw.db.admin<{ exists: boolean; rls: boolean; total: number }[]>`
    SELECT to_regclass('public.users') IS NOT NULL AS exists,
           (SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 'public.users'::regclass) AS rls,
           (SELECT count(*)::int FROM ${(await gw.allUsers()).table}) AS total`;
  return row as { exists: boolean; rls: boolean; total: number };
}

// ---------------------------------------------------------------------------------------------------
// Raw HTTP over a socket, for what fetch refuses to send.

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * Sends `payload` as is and reads until the server closes (send `connection: close` in requests). The
 * socket is not half-closed: the server would take that as the end of the connection and drop a slow answer.
 */
function rawExchange(port: number, payload: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A server that answers before reading everything may reset the connection; keep what arrived.
      if (chunks.length > 0 && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) return;
      reject(err);
    });
    socket.write(payload);
  });
}

function parseRaw(text: string): RawResponse {
  const split = text.indexOf('\r\n\r\n');
  expect(split, `no header end in ${JSON.stringify(text.slice(0, 200))}`).toBeGreaterThan(0);
  const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = text.slice(split + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    let decoded = '';
    for (;;) {
      const eol = body.indexOf('\r\n');
      const size = parseInt(body.slice(0, eol), 16);
      if (!(size > 0)) break;
      decoded += body.slice(eol + 2, eol + 2 + size);
      body = body.slice(eol + 2 + size + 2);
    }
    body = decoded;
  }
  return { status, headers, body: Buffer.from(body, 'latin1').toString('utf8') };
}

async function raw(port: number, payload: string | Buffer): Promise<RawResponse> {
  return parseRaw(await rawExchange(port, payload));
}

function gatewayPort(): number {
  return Number(new URL(gw.url).port);
}

// ---------------------------------------------------------------------------------------------------
// Arbitraries

const PARAM_NAMES = [
  'page',
  'page_size',
  'sort_column',
  'sort_direction',
  'search',
  'search_columns',
  'date_column',
  'date_after',
  'date_before',
  'id',
  'first_name',
  'last_name',
  'confirmed',
] as const;

const SQL_STRINGS = [
  "'; DROP TABLE users; --",
  "' OR '1'='1",
  '" OR ""="',
  '1; DELETE FROM users',
  '1) OR (1=1',
  "1'); SELECT pg_sleep(5); --",
  '$$; DROP TABLE users; $$',
  "\\'; DROP TABLE tenants; --",
  "E'\\\\'",
  'first_name; DROP TABLE users',
  'created_at DESC; DROP TABLE users',
  '"id"',
  'id)--',
  "%' OR 1=1 --",
  '_%\\',
  'users.*',
  '(SELECT 1)',
  '1 UNION SELECT db_password_encrypted FROM tenants',
  "current_setting('is_superuser')",
  "'; RESET ROLE; SET ROLE postgres; --",
];

const EDGE_VALUES = [
  ...SQL_STRINGS,
  '',
  ' ',
  '0',
  '-1',
  '1.5',
  '1e3',
  '0x10',
  '99999999999999999999999999',
  '١٢',
  'NaN',
  'Infinity',
  'true',
  'TRUE',
  'ascending',
  'DESC',
  'first_name,first_name',
  'first_name,,last_name',
  ' first_name , last_name ',
  'created_at',
  'updated_at',
  'id',
  '2024-01-31T12:00:00Z',
  '2024-02-30T00:00:00Z',
  '2024-02-29T23:59:59.999999999+15:59',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:60Z',
  '2024-01-31T12:00:00+16:00',
  '2024-01-31 12:00:00',
  '00000000-0000-0000-0000-000000000000',
  '6F1C7A52-9D0E-4B8A-A1F3-2C4D5E6F7A8B',
  '__proto__',
  'constructor',
  'toString',
  '\u0000',
  'a\u0000b',
  '😀'.repeat(101),
  'a'.repeat(101),
];

const PERCENT_EDGES = [
  '%',
  '%%',
  '%zz',
  '%0',
  '%00',
  '%C3%28',
  '%ED%A0%80',
  '%F0%9F%98',
  '%2525',
  '%26',
  '%3D',
  '+',
  '%2B',
  '%EF%BB%BF',
  '%C0%AF',
  '%FF',
  '%E2%80%AE',
  '%0A',
  '%u0041',
];

const paramValue = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...EDGE_VALUES) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) },
  { weight: 1, arbitrary: fc.uuid() },
);

const paramName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...PARAM_NAMES) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'PAGE', 'page ', 'page[]', 'pagesize', 'tenant_id', '', 'sort_column;') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
);

const queryPart = fc.oneof(
  fc.tuple(paramName, paramValue).map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`),
  fc.tuple(paramName, paramValue).map(([n, v]) => `${encodeURIComponent(n)}=${new URLSearchParams({ v }).toString().slice(2)}`),
  // Unencoded: the URL parser escapes what it must; & = + # and % keep their raw meaning.
  fc.tuple(paramName, paramValue).map(([n, v]) => `${n}=${v}`),
  fc
    .tuple(paramName, fc.constantFrom(...PERCENT_EDGES), fc.constantFrom(...EDGE_VALUES))
    .map(([n, p, v]) => `${encodeURIComponent(n)}=${p}${encodeURIComponent(v)}`),
  paramName.map((n) => encodeURIComponent(n)),
  fc.constantFrom(...PERCENT_EDGES, '&', '=', '==', '&&', '=page'),
);

const queryString = fc
  .tuple(fc.array(queryPart, { maxLength: 8 }), fc.boolean())
  // Sometimes repeat one part: repeated names must be refused, not merged.
  .map(([parts, repeat]) => (repeat && parts.length > 0 ? [...parts, parts[0] as string] : parts).join('&'));

const nameText = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 55 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  { weight: 2, arbitrary: fc.constantFrom(...SQL_STRINGS) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\t',
      '\u00a0',
      '\u3000',
      '\u200d',
      '\ufeff',
      'a\u0000b',
      'a\u007fb',
      'e\u0301',
      '\u202eevil',
      '😀'.repeat(50),
      '😀'.repeat(51),
      'a'.repeat(50),
      'a'.repeat(51),
      'Ａ',
    ),
  },
);
const nameValue = fc.oneof({ weight: 6, arbitrary: nameText }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
const nameObject = fc.record({ first_name: nameValue, last_name: nameValue }, { requiredKeys: [] });
const extraKey = fc.oneof(
  fc.constantFrom('tenant_id', 'id', 'confirmed', 'created_at', '__proto__', 'constructor', 'First_Name', 'first_name ', ''),
  fc.string({ unit: 'binary', maxLength: 10 }),
);
const JSON_ESCAPES = ['\\ud800', '\\udfff', '\\ud83d', '\\ude00\\ud83d', '\\u0000', '\\u001f', '\\u007f', '\\u0085', '\\u2028', '\\ud83d\\ude00'];

const jsonBody: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 4, arbitrary: nameObject.map((o) => JSON.stringify(o)) },
  {
    weight: 2,
    arbitrary: fc.tuple(nameObject, extraKey, fc.jsonValue({ maxDepth: 1 })).map(([o, k, v]) => JSON.stringify({ ...o, [k]: v })),
  },
  {
    weight: 2,
    // Escapes as they appear on the wire: lone surrogates, NUL and other controls, valid pairs.
    arbitrary: fc
      .tuple(fc.constantFrom(...JSON_ESCAPES), fc.constantFrom('first_name', 'last_name'), fc.string({ unit: 'grapheme-ascii', maxLength: 5 }))
      .map(([esc, field, around]) => {
        const value = `${JSON.stringify(around).slice(1, -1)}${esc}x`;
        return field === 'first_name' ? `{"first_name":"${value}","last_name":"L"}` : `{"first_name":"F","last_name":"${value}"}`;
      }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{"first_name":1e999999,"last_name":"x"}',
      '{"first_name":123456789012345678901234567890,"last_name":"x"}',
      '{"first_name":-0,"last_name":"x"}',
      '{"first_name":"a","first_name":"b","last_name":"c"}',
      '{"first_name":"a","last_name":"b"',
      '{"first_name":"a","last_name":"b"}}',
      "{'first_name':'a','last_name':'b'}",
      '{"first_name":"a","last_name":"b",}',
      '',
      ' ',
      'null',
      '[]',
      '{}',
      '"string"',
      '{"__proto__":{"first_name":"a","last_name":"b"}}',
      '\ufeff{"first_name":"bom","last_name":"x"}',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 8000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  },
  {
    weight: 1,
    // Whitespace-padded around the limit: 413 only when the bytes exceed BODY_LIMIT.
    arbitrary: fc.integer({ min: BODY_LIMIT - 100, max: BODY_LIMIT + 100 }).map((size) => {
      const json = '{"first_name":"Padded","last_name":"Body"}';
      return json + ' '.repeat(Math.max(0, size - json.length));
    }),
  },
);

/** The body as JSON.parse sees it; a leading byte order mark may be ignored (RFC 8259 §8.1). */
function parseLikeAGateway(text: string): unknown {
  return JSON.parse(text.replace(/^\ufeff/, ''));
}

/** What the API must do with a body, judged independently of the gateway's code for the clear cases. */
function clearlyInvalid(text: string): boolean {
  let parsed: unknown;
  try {
    parsed = parseLikeAGateway(text);
  } catch {
    return true;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return true;
  const keys = Object.keys(parsed);
  if (keys.some((k) => k !== 'first_name' && k !== 'last_name')) return true;
  const record = parsed as Record<string, unknown>;
  return typeof record.first_name !== 'string' || typeof record.last_name !== 'string';
}

// ---------------------------------------------------------------------------------------------------

describe('arbitrary query strings on GET /v1/internal/users', () => {
  it('answer 200 with a page or a JSON 4xx, never a 5xx', async () => {
    const tenantId = (await gw.createTenant()).id;
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(queryString, async (query) => {
        const res = await list(tenantId, query);
        const text = await res.text();
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        expect(res.status, `${query} → ${text}`).toBeLessThan(500);
        if (res.status === 200) {
          expect(Object.keys(JSON.parse(text) as object).sort()).toEqual(PAGE_KEYS);
        } else {
          expect(res.status, `${query} → ${text}`).toBeGreaterThanOrEqual(400);
          errorCode(res.status, res.headers.get('content-type'), text);
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
    // The generator reaches both outcomes; otherwise the property proves little.
    expect(seen.get(200)).toBeGreaterThan(5);
    expect(seen.get(400)).toBeGreaterThan(5);
    expect((await usersTableIntact()).exists).toBe(true);
  });
});

describe('arbitrary JSON bodies on POST /v1/internal/users', () => {
  it('answer 201 or a JSON 400/413/415, and store exactly the users the 201s reported', async () => {
    const tenantId = (await gw.createTenant()).id;
    const created: UserJson[] = [];
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(jsonBody, async (body) => {
        const res = await postText(tenantId, body);
        const text = await res.text();
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        const context = `${JSON.stringify(body.slice(0, 200))} → ${res.status} ${text.slice(0, 300)}`;
        expect([201, 400, 413, 415], context).toContain(res.status);
        if (Buffer.byteLength(body) > BODY_LIMIT) expect(res.status, context).toBe(413);
        if (res.status === 201) {
          const user = JSON.parse(text) as UserJson;
          created.push({ id: user.id, first_name: user.first_name, last_name: user.last_name });
          expect(clearlyInvalid(body), context).toBe(false);
          // What was stored is exactly what was sent.
          const sent = parseLikeAGateway(body) as { first_name: string; last_name: string };
          expect(user.first_name, context).toBe(sent.first_name);
          expect(user.last_name, context).toBe(sent.last_name);
        } else {
          errorCode(res.status, res.headers.get('content-type'), text);
          if (clearlyInvalid(body) && Buffer.byteLength(body) <= BODY_LIMIT) expect(res.status, context).toBe(400);
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
    expect(seen.get(201)).toBeGreaterThan(5);
    expect(seen.get(400)).toBeGreaterThan(5);
    expect(seen.get(413)).toBeGreaterThan(0);

    const stored = await storedUsers(tenantId);
    expect(stored.length).toBe(created.length);
    expect(stored).toEqual([...created].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
  });
});

describe('body size', () => {
  let tenantId: string;
  beforeAll(async () => {
    tenantId = (await gw.createTenant()).id;
  });

  const valid = '{"first_name":"Ada","last_name":"Lovelace"}';
  const padded = (size: number): string => valid + ' '.repeat(size - valid.length);

  it('accepts a body of exactly BODY_LIMIT bytes', async () => {
    expect((await postText(tenantId, padded(BODY_LIMIT))).status).toBe(201);
  });

  it('answers 413 payload_too_large for one byte more, with content-length', async () => {
    const before = (await storedUsers(tenantId)).length;
    await expectError(await postText(tenantId, padded(BODY_LIMIT + 1)), 413, 'payload_too_large');
    expect((await storedUsers(tenantId)).length).toBe(before);
  });

  it('answers 413 for a declared length over the limit, before reading the body', async () => {
    const res = await raw(
      gatewayPort(),
      `POST ${USERS} HTTP/1.1\r\nhost: x\r\nx-tenant-id: ${tenantId}\r\ncontent-type: application/json\r\ncontent-length: 10000000\r\nconnection: close\r\n\r\n${valid}`,
    );
    expect(res.status).toBe(413);
    expect(errorCode(res.status, res.headers['content-type'] ?? null, res.body)).toBe('payload_too_large');
  });

  function streamOf(text: string, chunkSize: number): ReadableStream<Uint8Array> {
    const bytes = new TextEncoder().encode(text);
    let offset = 0;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= bytes.length) {
          controller.close();
          return;
        }
        controller.enqueue(bytes.subarray(offset, offset + chunkSize));
        offset += chunkSize;
      },
    });
  }

  function postStream(body: ReadableStream<Uint8Array>): Promise<Response> {
    return fetch(gw.url + USERS, {
      method: 'POST',
      headers: { 'x-tenant-id': tenantId, 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit & { duplex: 'half' });
  }

  it('accepts a chunked body (no content-length) within the limit', async () => {
    const res = await postStream(streamOf(padded(BODY_LIMIT), 4096));
    expect(res.status, await res.clone().text()).toBe(201);
  });

  it('answers 413 for a chunked body (no content-length) one byte over the limit', async () => {
    const before = (await storedUsers(tenantId)).length;
    await expectError(await postStream(streamOf(padded(BODY_LIMIT + 1), 4096)), 413, 'payload_too_large');
    expect((await storedUsers(tenantId)).length).toBe(before);
  });

  it('answers 413 to an endless chunked body once it passes the limit, without reading it all', async () => {
    // Chunks keep coming until the answer arrives (or 8 MB were offered): a gateway that buffers the
    // whole body before checking its size lets one request hold any amount of memory.
    const socket = connect(gatewayPort(), '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => received.push(c));
    socket.on('error', () => undefined);
    socket.write(`POST ${USERS} HTTP/1.1\r\nhost: x\r\nx-tenant-id: ${tenantId}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`);
    const chunk = `1000\r\n${'a'.repeat(0x1000)}\r\n`;
    const offered = 8 * 1024 * 1024;
    let sent = 0;
    while (received.length === 0 && sent < offered && !socket.destroyed) {
      await new Promise<void>((resolve) => (socket.write(chunk) ? setImmediate(resolve) : socket.once('drain', resolve)));
      sent += 0x1000;
    }
    const sentWhenAnswered = received.length > 0 ? sent : Infinity;
    if (received.length === 0 && !socket.destroyed) {
      socket.write('0\r\n\r\n');
      await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    }
    socket.destroy();
    const answer = Buffer.concat(received).toString('latin1');
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(sentWhenAnswered).toBeLessThan(1024 * 1024);
  });
});

describe('content type', () => {
  let tenantId: string;
  beforeAll(async () => {
    tenantId = (await gw.createTenant()).id;
  });
  const valid = '{"first_name":"Ada","last_name":"Lovelace"}';

  it.each([
    ['text/plain', 'text/plain'],
    ['text/plain with charset', 'text/plain; charset=utf-8'],
    ['application/jsonx', 'application/jsonx'],
    ['application/json-seq', 'application/json-seq'],
    ['application/json with junk after it', 'application/json junk'],
    ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded'],
    ['multipart/form-data', 'multipart/form-data; boundary=x'],
    ['empty', ''],
  ])('answers 415 for %s and stores nothing', async (_what, type) => {
    await expectError(await postText(tenantId, valid, type), 415, 'unsupported_media_type');
    expect(await storedUsers(tenantId)).toEqual([]);
  });

  it('answers 415 when there is no content-type at all', async () => {
    // A byte body: fetch adds no content-type of its own.
    await expectError(await postText(tenantId, new TextEncoder().encode(valid), null), 415, 'unsupported_media_type');
    expect(await storedUsers(tenantId)).toEqual([]);
  });
});

describe('malformed JSON', () => {
  let tenantId: string;
  beforeAll(async () => {
    tenantId = (await gw.createTenant()).id;
  });

  it.each([
    ['an empty body', ''],
    ['an unterminated object', '{"first_name":"Ada"'],
    ['single quotes', "{'first_name':'Ada','last_name':'L'}"],
    ['a trailing comma', '{"first_name":"Ada","last_name":"L",}'],
    ['two documents', '{"first_name":"Ada","last_name":"L"}{}'],
    ['NaN', '{"first_name":NaN,"last_name":"L"}'],
    ['a comment', '{"first_name":"Ada" /* x */,"last_name":"L"}'],
    ['a raw control character in a string', '{"first_name":"A\u0001da","last_name":"L"}'],
    ['a bad escape', '{"first_name":"\\x41","last_name":"L"}'],
    ['a truncated \\u escape', '{"first_name":"\\ud8","last_name":"L"}'],
  ])('answers 400 invalid_json for %s', async (_what, body) => {
    await expectError(await postText(tenantId, body), 400, 'invalid_json');
    expect(await storedUsers(tenantId)).toEqual([]);
  });

  it.each([
    ['a lone continuation byte', [0x80]],
    ['a truncated two-byte sequence', [0xc3]],
    ['an overlong slash', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['0xFF', [0xff]],
  ])('answers 400 invalid_json for invalid UTF-8: %s', async (_what, bad) => {
    const body = Buffer.concat([Buffer.from('{"first_name":"A'), Buffer.from(bad), Buffer.from('","last_name":"L"}')]);
    await expectError(await postText(tenantId, new Uint8Array(body)), 400, 'invalid_json', 'UTF-8');
    expect(await storedUsers(tenantId)).toEqual([]);
  });
});

describe('headers', () => {
  let tenantId: string;
  // A server wired exactly as main.ts wires it (the test harness does not answer parser-level errors).
  let mainLikePort: number;
  let mainLike: Server;

  beforeAll(async () => {
    tenantId = (await gw.createTenant()).id;
    mainLike = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: gw.gateway.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s as Server)) as Server;
      answerClientErrors(s);
    });
    mainLikePort = (mainLike.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => mainLike.close(() => resolve()));
  });

  it('answers 431 with a JSON body to a 64 KB cookie', async () => {
    const res = await raw(mainLikePort, `GET ${USERS} HTTP/1.1\r\nhost: x\r\nx-tenant-id: ${tenantId}\r\ncookie: a=${'b'.repeat(64 * 1024)}\r\n\r\n`);
    expect(res.status).toBe(431);
    expect(errorCode(res.status, res.headers['content-type'] ?? null, res.body)).toBe('headers_too_large');
  });

  it('answers 400 with a JSON body to a request line that is not HTTP', async () => {
    for (const line of ['HELLO WORLD\r\n\r\n', 'GET\r\n\r\n', `GET ${USERS} HTTP/9.9\r\n\r\n`, '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03']) {
      const res = await raw(mainLikePort, line);
      expect(res.status, JSON.stringify(line)).toBe(400);
      expect(errorCode(res.status, res.headers['content-type'] ?? null, res.body)).toBe('bad_request');
    }
  });

  it('still serves after those errors', async () => {
    const res = await fetch(`http://127.0.0.1:${mainLikePort}${USERS}`, { headers: { 'x-tenant-id': tenantId } });
    expect(res.status).toBe(200);
  });

  it('the test gateway itself answers a 64 KB cookie with 431, not a crash', async () => {
    const res = await raw(gatewayPort(), `GET ${USERS} HTTP/1.1\r\nhost: x\r\nx-tenant-id: ${tenantId}\r\ncookie: a=${'b'.repeat(64 * 1024)}\r\n\r\n`);
    expect(res.status).toBe(431);
    expect((await list(tenantId, '')).status).toBe(200);
  });

  it('answers 400 invalid_tenant_id for a 2 KB x-tenant-id', async () => {
    const res = await gw.request(USERS, { headers: { 'x-tenant-id': `${tenantId}${'a'.repeat(2048)}` } });
    await expectError(res, 400, 'invalid_tenant_id', 'x-tenant-id');
    await expectError(await gw.request(USERS, { headers: { 'x-tenant-id': 'f'.repeat(2048) } }), 400, 'invalid_tenant_id');
  });

  it('answers 400 to duplicate x-tenant-id headers, even when both name the same tenant', async () => {
    const other = (await gw.createTenant()).id;
    for (const [a, b] of [
      [tenantId, other],
      [tenantId, tenantId],
      [tenantId, ''],
    ]) {
      const res = await raw(gatewayPort(), `GET ${USERS} HTTP/1.1\r\nhost: x\r\nx-tenant-id: ${a}\r\nx-tenant-id: ${b}\r\nconnection: close\r\n\r\n`);
      expect(res.status, res.body).toBe(400);
      expect(errorCode(res.status, res.headers['content-type'] ?? null, res.body)).toBe('invalid_tenant_id');
    }
    expect((await list(tenantId, '')).status).toBe(200);
  });

  it('answers 400 JSON to non-ASCII header values, and never lets them through as a request id', async () => {
    const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');
    const cases: Array<[string, Buffer]> = [
      [
        'x-tenant-id in UTF-8',
        Buffer.concat([utf8(`GET ${USERS} HTTP/1.1\r\nhost: x\r\nx-tenant-id: `), utf8('ü'.repeat(36)), utf8('\r\nconnection: close\r\n\r\n')]),
      ],
      [
        'x-tenant-id with a fullwidth digit',
        Buffer.concat([utf8(`GET ${USERS} HTTP/1.1\r\nhost: x\r\nx-tenant-id: ${tenantId.slice(0, -1)}`), utf8('１'), utf8('\r\nconnection: close\r\n\r\n')]),
      ],
      [
        'x-tenant-id in Latin-1',
        Buffer.concat([utf8(`GET ${USERS} HTTP/1.1\r\nhost: x\r\nx-tenant-id: `), Buffer.from([0xe9, 0xe9]), utf8('\r\nconnection: close\r\n\r\n')]),
      ],
    ];
    for (const [what, payload] of cases) {
      const res = await raw(gatewayPort(), payload);
      expect(res.status, what).toBe(400);
      errorCode(res.status, res.headers['content-type'] ?? null, res.body);
    }
    const withId = await raw(
      gatewayPort(),
      Buffer.concat([
        utf8(`GET ${USERS} HTTP/1.1\r\nhost: x\r\nx-tenant-id: ${tenantId}\r\nx-request-id: `),
        utf8('req-ü'),
        utf8('\r\nconnection: close\r\n\r\n'),
      ]),
    );
    expect(withId.status).toBe(200);
    expect(withId.headers['x-request-id']).toMatch(UUID);
    const admin = await raw(
      gatewayPort(),
      Buffer.concat([utf8('GET /v1/admin/tenants HTTP/1.1\r\nhost: x\r\nauthorization: Bearer '), utf8('ü.ü.ü'), utf8('\r\nconnection: close\r\n\r\n')]),
    );
    expect(admin.status).toBe(401);
    errorCode(admin.status, admin.headers['content-type'] ?? null, admin.body);
  });
});

describe('Unicode names', () => {
  let tenantId: string;
  beforeAll(async () => {
    tenantId = (await gw.createTenant()).id;
  });

  it.each([
    ['an emoji ZWJ family', '👩‍👩‍👧‍👦', 'Family'],
    ['skin-tone and flag emoji', '👍🏽', '🇺🇦🏳️‍🌈'],
    ['combining marks (decomposed)', 'Ame\u0301lie', 'Zoe\u0308'],
    ['precomposed, the same text in NFC', 'Amélie', 'Zoë'],
    ['stacked combining marks', 'Z\u0351\u0352\u0353a\u0354\u0355', 'l\u0356g\u0357o'],
    ['right-to-left text', 'שָׁלוֹם', 'مرحبا'],
    ['bidi controls', '\u202eevil\u202c', '\u2067x\u2069'],
    ['a lone zero-width joiner', '\u200d', 'a\u200db'],
    ['zero-width space and non-joiner', 'a\u200bb', 'c\u200cd'],
    ['a byte order mark inside', 'a\ufeffb', 'x'],
    ['astral-plane letters', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '𠜎𠜱'],
    ['fifty emoji', '😀'.repeat(50), '🏳️‍🌈'.repeat(12)],
    ['quotes and backslashes', `O'Brien "\\"`, "\\'; --"],
  ])('%s round-trip exactly through POST, GET and the database', async (_what, first, last) => {
    const res = await postText(tenantId, JSON.stringify({ first_name: first, last_name: last }));
    const text = await res.text();
    expect(res.status, text).toBe(201);
    const user = JSON.parse(text) as UserJson;
    expect([user.first_name, user.last_name]).toEqual([first, last]);
    const [row] = await gw.adminOf(tenantId)<
      { first_name: string; last_name: string }[]
    >`SELECT first_name, last_name FROM ${gw.usersOf(tenantId)} WHERE id = ${user.id}`;
    expect(row).toEqual({ first_name: first, last_name: last });
    const page = (await (await list(tenantId, new URLSearchParams({ id: user.id }).toString())).json()) as { records: UserJson[] };
    expect(page.records.map((u) => [u.first_name, u.last_name])).toEqual([[first, last]]);
    const byName = (await (await list(tenantId, new URLSearchParams({ first_name: first }).toString())).json()) as { records: UserJson[] };
    expect(byName.records.map((u) => u.id)).toContain(user.id);
    // Equality is by code points, not by normalisation: the other form of the same text is another name.
    for (const u of byName.records) expect(u.first_name).toBe(first);
  });

  it('counts code points, not UTF-16 units: 51 emoji are too many', async () => {
    await expectError(await postText(tenantId, JSON.stringify({ first_name: '😀'.repeat(51), last_name: 'x' })), 400, 'invalid_field', 'first_name');
  });

  it.each([
    ['a lone high surrogate', '"a\\ud800"'],
    ['a lone low surrogate', '"\\udc00a"'],
    ['reversed surrogates', '"\\ude00\\ud83d"'],
    ['NUL', '"a\\u0000b"'],
    ['DEL', '"a\\u007fb"'],
  ])('refuses %s sent as a JSON escape', async (_what, value) => {
    const before = (await storedUsers(tenantId)).length;
    await expectError(await postText(tenantId, `{"first_name":${value},"last_name":"x"}`), 400, 'invalid_field', 'first_name');
    expect((await storedUsers(tenantId)).length).toBe(before);
  });
});

describe('SQL-looking strings in every parameter', () => {
  let tenantId: string;
  let bobby: UserJson;

  beforeAll(async () => {
    tenantId = (await gw.createTenant()).id;
    await postText(tenantId, JSON.stringify({ first_name: 'Plain', last_name: 'User' }));
    const res = await postText(tenantId, JSON.stringify({ first_name: "Robert'); DROP TABLE users;--", last_name: '$$; DROP TABLE users; $$' }));
    bobby = (await res.json()) as UserJson;
  });

  it('answers 400 or data for each, and the users table and every row survive', async () => {
    const before = await usersTableIntact();
    const tenantsBefore = await gw.db.admin`SELECT id, db_user, db_password_encrypted FROM tenants ORDER BY id`;
    const outcomes: string[] = [];
    for (const name of PARAM_NAMES) {
      for (const value of SQL_STRINGS) {
        const res = await list(tenantId, new URLSearchParams({ [name]: value }).toString());
        const text = await res.text();
        const where = `${name}=${value} → ${res.status} ${text.slice(0, 200)}`;
        if (res.status === 200) {
          const page = JSON.parse(text) as { records: UserJson[]; total: number };
          outcomes.push(`${name}:200`);
          // Data, not code: a search or equality filter matches only text that literally contains it.
          if (name === 'search') {
            for (const u of page.records) expect(`${u.first_name} ${u.last_name}`.toLowerCase(), where).toContain(value.trim().toLowerCase());
          } else if (name === 'first_name' || name === 'last_name') {
            for (const u of page.records) expect(u[name], where).toBe(value);
          } else {
            expect(page.total, where).toBe(2);
          }
        } else {
          expect(res.status, where).toBe(400);
          errorCode(res.status, res.headers.get('content-type'), text);
          outcomes.push(`${name}:400`);
        }
      }
    }
    // Only free-text parameters can take these as data; every whitelisted or typed one refused them.
    const accepted = new Set(outcomes.filter((o) => o.endsWith(':200')).map((o) => o.split(':')[0]));
    expect([...accepted].sort()).toEqual(['first_name', 'last_name', 'search']);
    expect(await usersTableIntact()).toEqual(before);
    expect(await gw.db.admin`SELECT id, db_user, db_password_encrypted FROM tenants ORDER BY id`).toEqual(tenantsBefore);
  });

  it('finds the user whose names look like SQL, by search and by exact filters', async () => {
    const ids = async (query: Record<string, string>): Promise<string[]> =>
      ((await (await list(tenantId, new URLSearchParams(query).toString())).json()) as { records: UserJson[] }).records.map((u) => u.id);
    expect(await ids({ search: "'); DROP TABLE" })).toEqual([bobby.id]);
    expect(await ids({ search: '$$; drop', search_columns: 'last_name' })).toEqual([bobby.id]);
    expect(await ids({ search: '$$; drop', search_columns: 'first_name' })).toEqual([]);
    expect(await ids({ first_name: "Robert'); DROP TABLE users;--" })).toEqual([bobby.id]);
    expect(await ids({ last_name: '$$; DROP TABLE users; $$' })).toEqual([bobby.id]);
  });

  it('treats SQL in POST bodies as names', async () => {
    for (const value of SQL_STRINGS) {
      const res = await postText(tenantId, JSON.stringify({ first_name: value, last_name: value }));
      expect(res.status, value).toBe(201);
      expect(((await res.json()) as UserJson).first_name).toBe(value);
    }
    expect((await usersTableIntact()).exists).toBe(true);
    expect((await storedUsers(tenantId)).length).toBe(2 + SQL_STRINGS.length);
  });
});
