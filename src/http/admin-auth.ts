// Admin routes take `Authorization: Bearer <JWT>`: HS256 only, signed with ADMIN_JWT_SECRET, `exp`
// required, and the claim role "admin". Verification is jose's; the algorithm list is explicit so a
// token signed with `none` or another algorithm is refused. The scheme name is case-insensitive (RFC 9110).
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import type { MiddlewareHandler } from 'hono';
import { Forbidden, Unauthorized } from '../errors.js';

const ALGORITHMS = ['HS256'];

export function adminKey(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

export function requireAdmin(key: Uint8Array): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const match = header === undefined ? null : /^bearer ([\w-]+\.[\w-]+\.[\w-]+)$/i.exec(header);
    if (!match?.[1]) {
      throw new Unauthorized('unauthorized', 'an admin bearer token is required (Authorization: Bearer <JWT>)');
    }
    let role: unknown;
    try {
      const { payload } = await jwtVerify(match[1], key, { algorithms: ALGORITHMS, requiredClaims: ['exp'] });
      role = payload.role;
    } catch (err) {
      const reason = err instanceof joseErrors.JWTExpired ? 'the token has expired' : 'the token is not valid';
      throw new Unauthorized('unauthorized', reason);
    }
    if (role !== 'admin') throw new Forbidden('forbidden', 'the token does not carry role "admin"');
    await next();
  };
}

export async function mintAdminToken(key: Uint8Array, ttlSeconds: number, subject = 'tenantgate-cli'): Promise<string> {
  return new SignJWT({ role: 'admin' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(key);
}
