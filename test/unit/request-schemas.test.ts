// The document's request schemas describe exactly what the hand-written parsers accept: for generated
// bodies and query values, the parser accepts when and only when the schema (as ajv reads it from the
// document) does. The parsers keep their precise error codes and messages; these properties keep the
// document from promising more or less than they do.
import fc from 'fast-check';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { buildApiDocument } from '../../src/openapi/document.js';
import { parseIdempotencyKey } from '../../src/idempotency/key.js';
import { parseCreateServer } from '../../src/servers/create-input.js';
import { parseMoveTenant } from '../../src/servers/move-input.js';
import { parseCreateTenant } from '../../src/tenants/create-input.js';
import { parseTenantLimits } from '../../src/tenants/limits-input.js';
import { parseCreateUser } from '../../src/users/create-input.js';
import { parseTenantListParams, TENANT_LIST_PARAMETERS } from '../../src/tenants/list-input.js';
import { parseListParams } from '../../src/users/list-params.js';
import { parseUpdateUser } from '../../src/users/update-input.js';

const document = buildApiDocument({ authMode: 'network', tenantFrom: 'header' }) as Record<string, unknown>;
const ajv = new Ajv2020({ strict: false });
addFormatsModule.default(ajv);
ajv.addSchema(document, 'openapi.json');
const component = (name: string) => ajv.compile({ $ref: `openapi.json#/components/schemas/${name}` });

function accepts(parse: () => unknown): boolean {
  try {
    parse();
    return true;
  } catch {
    return false;
  }
}

// Text at and around the limits, blank, control characters, lone and paired surrogates.
const text = (max: number) =>
  fc.oneof(
    fc.constantFrom('', ' ', '\t', 'Ada', ' Ann ', 'a'.repeat(max), 'a'.repeat(max + 1), '😀'.repeat(max), '😀'.repeat(max + 1)),
    fc.constantFrom('a\u0000b', 'a\u001fb', 'a\u007fb', '\ud800', 'a\udc00b', '\u00a0', '\u2003x', 'é'.repeat(max)),
    fc.string({ unit: 'binary', maxLength: 2 * max + 2 }),
    fc.string({ unit: 'grapheme', maxLength: max + 2 }),
  );
const anyValue = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.constant([]), fc.constant({}));

// Names at and around the shape sql/013 allows.
const serverName = fc.oneof(
  fc.constantFrom('main', 'eu2', 'a', 'a'.repeat(40), 'a'.repeat(41), 'Eu2', '2eu', 'eu-2', 'eu_2', '', 'eu2\n', ' eu2'),
  fc.stringMatching(/^[a-z0-9_A-Z-]{0,42}$/),
  anyValue,
);

function bodies(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const keys = [...Object.keys(fields), 'id', 'tenant_id'];
  const object = fc
    .subarray(keys)
    .chain((present) => fc.tuple(...present.map((k) => (fields[k] ?? anyValue).map((v) => [k, v] as const))))
    .map((entries) => Object.fromEntries(entries));
  return fc.oneof({ arbitrary: object, weight: 8 }, { arbitrary: anyValue, weight: 1 }, { arbitrary: fc.constant('text'), weight: 1 });
}

describe('request schemas in the document', () => {
  it('CreateUser accepts exactly the bodies parseCreateUser accepts', () => {
    const validate = component('CreateUser');
    const name = fc.oneof(text(50), anyValue);
    fc.assert(
      fc.property(bodies({ first_name: name, last_name: name }), (body) => {
        expect(validate(body), JSON.stringify(body)).toBe(accepts(() => parseCreateUser(body)));
      }),
      { numRuns: 3000 },
    );
  });

  it('UpdateUser accepts exactly the bodies parseUpdateUser accepts', () => {
    const validate = component('UpdateUser');
    const name = fc.oneof(text(50), anyValue);
    const confirmed = fc.oneof(fc.boolean(), fc.constantFrom('true', 0, 1), anyValue);
    fc.assert(
      fc.property(bodies({ first_name: name, last_name: name, confirmed }), (body) => {
        expect(validate(body), JSON.stringify(body)).toBe(accepts(() => parseUpdateUser(body)));
      }),
      { numRuns: 3000 },
    );
    // The empty body, which the generator reaches only by chance: at least one field.
    expect([validate({}), accepts(() => parseUpdateUser({}))]).toEqual([false, false]);
  });

  it('CreateTenant accepts exactly the bodies parseCreateTenant accepts', () => {
    const validate = component('CreateTenant');
    fc.assert(
      fc.property(
        bodies({ name: fc.oneof(text(100), anyValue), model: fc.oneof(fc.constantFrom('rls', 'schema', 'RLS', 'x'), anyValue), server: serverName }),
        (body) => {
          expect(validate(body), JSON.stringify(body)).toBe(accepts(() => parseCreateTenant(body)));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('MoveTenant accepts exactly the bodies parseMoveTenant accepts: one of server or node (host:port)', () => {
    const validate = component('MoveTenant');
    const node = fc.oneof(
      fc.constantFrom('127.0.0.1:5432', 'w1:1', 'w1:65535', 'w1:65536', 'w1:0', 'w1:05432', '[::1]:5432', '::1:5432', 'w1', ':5432', 'w 1:5432', '-w:5432'),
      fc.constantFrom(`${'a'.repeat(253)}:1`, `${'a'.repeat(254)}:1`, '[1.2.3.4]:80', 'host.example.com:6432', 'w1:5432\n'),
      fc.tuple(fc.stringMatching(/^[a-z0-9.:[\]-]{0,12}$/), fc.integer({ min: -1, max: 70_000 })).map(([h, p]) => `${h}:${p}`),
      anyValue,
    );
    fc.assert(
      fc.property(bodies({ server: serverName, node }), (body) => {
        expect(validate(body), JSON.stringify(body)).toBe(accepts(() => parseMoveTenant(body)));
      }),
      { numRuns: 3000 },
    );
  });

  it('CreateServer accepts exactly the bodies parseCreateServer accepts', () => {
    const validate = component('CreateServer');
    const url = fc.oneof(
      fc.constantFrom('postgres://u:p@h/db', 'postgres://u:p w@h/db', 'postgres://u:pé@h/db', '', 'a'.repeat(2048), 'a'.repeat(2049), 'x\ny'),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ unit: fc.constantFrom('a', '~', '!'), minLength: 2046, maxLength: 2050 }),
      fc.string({ unit: fc.constantFrom('a', '~', '!', ' ', '\u007f', 'é', '😀'), minLength: 2040, maxLength: 2056 }),
      anyValue,
    );
    const max = fc.oneof(fc.constantFrom(3, 4, 5, 100_000, 100_001, 4.5, '8', null), fc.integer({ min: -5, max: 200_000 }), anyValue);
    // Complete bodies most of the time: each field's edge is reached only when the others pass.
    const complete = fc.record({
      name: fc.oneof({ arbitrary: fc.constantFrom('eu2', 'a_1'), weight: 3 }, serverName),
      url: fc.oneof({ arbitrary: fc.constant('postgres://u:p@h/db'), weight: 3 }, url),
      max_connections: fc.oneof({ arbitrary: fc.constant(50), weight: 2 }, max),
    });
    fc.assert(
      fc.property(fc.oneof(complete, bodies({ name: serverName, url, max_connections: max })), (body) => {
        expect(validate(body), JSON.stringify(body)).toBe(accepts(() => parseCreateServer(body)));
      }),
      { numRuns: 3000 },
    );
  });

  it('TenantLimits accepts exactly the bodies parseTenantLimits accepts', () => {
    const validate = component('TenantLimits');
    const limit = fc.oneof(fc.constantFrom(-1, 0, 1, 2, 1_000_000, 1_000_001, 1.5, '5', null), fc.integer({ min: -5, max: 2_000_000 }), anyValue);
    fc.assert(
      fc.property(bodies({ rate_limit_rps: limit, rate_limit_burst: limit }), (body) => {
        expect(validate(body), JSON.stringify(body)).toBe(accepts(() => parseTenantLimits(body)));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('GET /v1/internal/users query parameters in the document', () => {
  const operation = (document.paths as Record<string, Record<string, { parameters: { name: string; schema: Record<string, unknown> }[] }>>)[
    '/v1/internal/users'
  ]?.get;
  const parameters = new Map((operation?.parameters ?? []).map((p) => [p.name, ajv.compile(p.schema)] as const));
  const schemaOf = (name: string) => operation?.parameters.find((p) => p.name === name)?.schema ?? {};
  // As the contract (test/support/contract.ts) reads a query value: text, or the type its schema says.
  const asTyped = (name: string, value: string): unknown => {
    const type = schemaOf(name).type;
    if (type === 'integer' && /^\d+$/.test(value)) return Number(value);
    if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
    return value;
  };
  const candidates: Record<string, string[]> = {
    page: ['0', '1', '007', '100000', '100001', '-1', '1.5', 'x', '', '1e3'],
    page_size: ['0', '1', '10', '100', '101', ' 5', 'ten'],
    sort_column: ['id', 'first_name', 'last_name', 'confirmed', 'created_at', 'updated_at', 'email', 'ID', ''],
    sort_direction: ['ascending', 'descending', 'asc', 'DESC', ''],
    date_column: ['created_at', 'updated_at', 'id', ''],
    count: ['capped', 'exact', 'none', 'all', ''],
    confirmed: ['true', 'false', 'TRUE', '1', ''],
    id: ['123e4567-e89b-12d3-a456-426614174000', '123E4567-E89B-12D3-A456-426614174000', '123e4567e89b12d3a456426614174000', 'x', ''],
    first_name: ['Ada', '', 'a'.repeat(50), 'a'.repeat(51), '😀'.repeat(50)],
    search_columns: ['first_name', 'last_name', 'first_name,last_name', ' first_name , last_name ', 'first_name,first_name', 'email', '', ','],
  };

  it('names exactly the parameters parseListParams reads', () => {
    expect([...parameters.keys()]).toEqual([
      'page',
      'page_size',
      'sort_column',
      'sort_direction',
      'search',
      'search_columns',
      'date_column',
      'date_after',
      'date_before',
      'cursor',
      'count',
      'id',
      'first_name',
      'last_name',
      'confirmed',
    ]);
    // The parser's own list, through its error message.
    expect(() => parseListParams(new URLSearchParams('made_up=1'))).toThrow(`allowed parameters are ${[...parameters.keys()].join(', ')}`);
  });

  it.each(Object.entries(candidates))('%s: the document accepts a value when and only when the parser does', (name, values) => {
    const validate = parameters.get(name);
    expect(validate).toBeDefined();
    // Distinctness of search_columns is beyond the schema: the parser alone refuses a repeat.
    const parserOnly = new Set(['first_name,first_name']);
    for (const value of values) {
      const parser = accepts(() => parseListParams(new URLSearchParams([[name, value]])));
      const schema = validate?.(asTyped(name, value)) === true;
      if (parserOnly.has(value)) expect([parser, schema], value).toEqual([false, true]);
      else expect(schema, `${name}=${JSON.stringify(value)}`).toBe(parser);
    }
  });
});

describe('the Idempotency-Key header in the document', () => {
  const operations = document.paths as Record<string, Record<string, { parameters?: { name: string; in: string; schema: Record<string, unknown> }[] }>>;
  const headerOf = (path: string, method: string) => operations[path]?.[method]?.parameters?.find((p) => p.in === 'header' && p.name === 'Idempotency-Key');

  it('is documented, with one schema, on the writes that read it', () => {
    expect(headerOf('/v1/internal/users', 'post')).toBeDefined();
    expect(headerOf('/v1/internal/users/{id}', 'patch')?.schema).toEqual(headerOf('/v1/internal/users', 'post')?.schema);
  });

  it('accepts exactly the keys parseIdempotencyKey accepts', () => {
    const validate = ajv.compile(headerOf('/v1/internal/users', 'post')?.schema ?? {});
    const keys = fc.oneof(
      fc.constantFrom('', ' ', 'k', 'a b', '\x7f', '\x21', '~', 'é', '😀', 'a'.repeat(255), 'a'.repeat(256), 'key\n', '\tkey'),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.string({ unit: fc.integer({ min: 0x1f, max: 0x80 }).map((c) => String.fromCharCode(c)), minLength: 250, maxLength: 260 }),
    );
    fc.assert(
      fc.property(keys, (key) => {
        expect(validate(key), JSON.stringify(key)).toBe(accepts(() => parseIdempotencyKey(key)));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('GET /v1/admin/tenants query parameters in the document', () => {
  const operation = (document.paths as Record<string, Record<string, { parameters: { name: string; schema: Record<string, unknown> }[] }>>)['/v1/admin/tenants']
    ?.get;
  const parameters = new Map((operation?.parameters ?? []).map((p) => [p.name, ajv.compile(p.schema)] as const));
  const schemaOf = (name: string) => operation?.parameters.find((p) => p.name === name)?.schema ?? {};
  // As the contract (test/support/contract.ts) reads a query value.
  const asTyped = (name: string, value: string): unknown => (schemaOf(name).type === 'integer' && /^\d+$/.test(value) ? Number(value) : value);
  const search = fc.oneof(
    fc.constantFrom('', ' ', 'acme', '%_\\', ' a ', 'a'.repeat(100), 'a'.repeat(101), ` ${'a'.repeat(100)} `, `\n${'😀'.repeat(100)}\t`, '😀'.repeat(101)),
    fc.constantFrom(
      `\u00a0${'a'.repeat(100)}\u2003`,
      `\ufeff${'a'.repeat(100)}`,
      `a${' '.repeat(99)}b`,
      `a${' '.repeat(98)}b`,
      '\ud800'.repeat(100),
      '\ud800'.repeat(101),
    ),
    fc
      .tuple(
        fc.string({ unit: fc.constantFrom(' ', '\t', '\n', '\u00a0', '\u2028', '\u3000', 'x'), maxLength: 4 }),
        fc.string({ unit: 'binary', minLength: 95, maxLength: 105 }),
      )
      .map(([ws, t]) => `${ws}${t}${ws}`),
  );
  const candidates: Record<string, fc.Arbitrary<string>> = {
    page: fc.constantFrom('0', '1', '007', '1000000', '1000001', '-1', '1.5', 'x', '', '1e3'),
    page_size: fc.constantFrom('0', '1', '50', '1000', '1001', ' 5', 'ten', ''),
    search,
    status: fc.constantFrom('active', 'suspended', 'Active', 'deleted', ''),
    sort_column: fc.constantFrom('name', 'created_at', 'updated_at', 'status', 'id', 'db_user', 'NAME', ''),
    sort_direction: fc.constantFrom('ascending', 'descending', 'asc', 'DESC', ''),
  };

  it('names exactly the parameters parseTenantListParams reads', () => {
    expect([...parameters.keys()]).toEqual([...TENANT_LIST_PARAMETERS]);
    expect(() => parseTenantListParams({ made_up: ['1'] })).toThrow(`allowed: ${[...parameters.keys()].join(', ')}`);
  });

  it.each(Object.entries(candidates))('%s: the document accepts a value when and only when the parser does', (name, values) => {
    const validate = parameters.get(name);
    expect(validate).toBeDefined();
    fc.assert(
      fc.property(values, (value) => {
        const parser = accepts(() => parseTenantListParams({ [name]: [value] }));
        expect(validate?.(asTyped(name, value)) === true, `${name}=${JSON.stringify(value)}`).toBe(parser);
      }),
      { numRuns: name === 'search' ? 2000 : 100 },
    );
  });
});
