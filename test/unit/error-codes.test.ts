// The document's error vocabulary (src/openapi/error-codes.ts) names every code the source can throw,
// with the status its error class answers: a new code cannot reach callers undocumented.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/openapi/error-codes.js';

const src = fileURLToPath(new URL('../../src', import.meta.url));
const STATUS: Record<string, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  UnprocessableEntity: 422,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  TooManyRequests: 429,
  ClientClosedRequest: 499,
  Unavailable: 503,
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const thrown = sources(src)
  .filter((file) => !file.includes(`${join('src', 'openapi')}`))
  .flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/new (\w+)\(\s*'([a-z_]+)'/g)])
  .filter((m) => (m[1] as string) in STATUS)
  .map((m) => ({ kind: m[1] as string, code: m[2] as string }));

describe('error codes in the document', () => {
  it('finds the codes at all', () => {
    expect(new Set(thrown.map((t) => t.code)).size).toBeGreaterThan(35);
  });

  // 499 client_closed_request reaches no one: the client has hung up before it is answered.
  it.each(thrown.filter((t) => t.code !== 'client_closed_request'))('$code ($kind) is documented with its status', ({ kind, code }) => {
    const entry = (ERROR_CODES as Record<string, readonly [number, string]>)[code];
    expect(entry, `${code} is missing from src/openapi/error-codes.ts`).toBeDefined();
    expect(entry?.[0]).toBe(STATUS[kind]);
  });

  // MethodNotAllowed names its code itself (src/errors.ts), out of the pattern's reach.
  it('method_not_allowed (MethodNotAllowed) is documented with 405', () => {
    expect(readFileSync(join(src, 'errors.ts'), 'utf8')).toContain("super('method_not_allowed'");
    expect(ERROR_CODES.method_not_allowed[0]).toBe(405);
  });
});
