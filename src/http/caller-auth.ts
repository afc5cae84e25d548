// Who may call /v1/internal/* and for which tenant (AUTH_MODE):
// - network: the caller's address (the socket's; X-Forwarded-For only when the socket is a trusted
//   proxy) must lie in TRUSTED_NETWORKS, and x-tenant-id names the tenant.
// - jwt: a bearer token verified with jose (HS256 with JWT_SECRET, or RS256/ES256 from JWKS_URL),
//   `exp` required, `nbf` and, when configured, `iss`/`aud` enforced, algorithms from an allowlist.
//   Its tenant claim must equal x-tenant-id, or supplies the tenant when the header is absent.
// With TENANT_FROM=host the Host header names the tenant instead of x-tenant-id (src/http/tenant-host.ts),
// but only after the caller passed the same checks: an untrusted address or a bad token is refused
// before the host is even read, and a token's claim must still be the tenant the host names.
// No header grants trust by itself.
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { Forbidden, Unauthorized, Unavailable } from '../errors.js';
import { cidrMatcher, parseAddress, type Cidr } from './cidr.js';
import type { AppEnv } from './env.js';
import { isUuid } from './params.js';
import { readTenantHeader } from './tenant-id.js';

export type CallerAuthConfig =
  | {
      readonly mode: 'network';
      readonly trustedNetworks: readonly Cidr[];
      readonly trustedProxies: readonly Cidr[];
    }
  | {
      readonly mode: 'jwt';
      readonly secret: string | undefined;
      readonly jwksUrl: string | undefined;
      readonly jwksCooldownMs: number;
      readonly algorithms: readonly string[];
      readonly issuer: string | undefined;
      readonly audience: string | undefined;
      readonly tenantClaim: string;
      readonly clockToleranceSeconds: number;
      /** Refuse tokens issued longer ago than this (JWT_MAX_AGE; then `iat` is required). */
      readonly maxAgeSeconds?: number | undefined;
    };

/** The tenant a request names by other means than x-tenant-id or a token (TENANT_FROM=host). */
export type NameTenant = (c: Context) => string | Promise<string>;

/** `nameTenant`: where the tenant comes from instead of the header (network) or the claim (jwt). */
export function createCallerAuth(config: CallerAuthConfig, nameTenant?: NameTenant): MiddlewareHandler<AppEnv> {
  return config.mode === 'network' ? networkAuth(config, nameTenant) : jwtAuth(config, nameTenant);
}

function networkAuth(config: Extract<CallerAuthConfig, { mode: 'network' }>, nameTenant: NameTenant | undefined): MiddlewareHandler<AppEnv> {
  const trusted = cidrMatcher(config.trustedNetworks);
  const isProxy = cidrMatcher(config.trustedProxies);
  // Synchronous until next(): no await of its own, so no extra promise per request.
  return (c, next) => {
    if (!trusted(clientAddress(c, isProxy))) {
      throw new Forbidden('untrusted_network', 'callers from this address are not served (TRUSTED_NETWORKS)');
    }
    if (nameTenant === undefined) {
      c.set('tenantId', readTenantHeader(c, true) as string);
      return next();
    }
    // A trusted caller may name any tenant, by host as by header: the host adds no trust of its own.
    const named = nameTenant(c);
    if (typeof named === 'string') {
      c.set('tenantId', named);
      return next();
    }
    return named.then((tenantId) => {
      c.set('tenantId', tenantId);
      return next();
    });
  };
}

/** Admits only callers from `networks` (their address found as for network-mode caller auth). */
export function networkGuard(networks: readonly Cidr[], trustedProxies: readonly Cidr[]): MiddlewareHandler<AppEnv> {
  const allowed = cidrMatcher(networks);
  const isProxy = cidrMatcher(trustedProxies);
  return (c, next) => {
    if (!allowed(clientAddress(c, isProxy))) {
      throw new Forbidden('untrusted_network', 'this address may not read monitoring endpoints (METRICS_NETWORKS)');
    }
    return next();
  };
}

/**
 * The socket's peer address; behind trusted proxies, the right-most X-Forwarded-For entry that is not
 * itself a trusted proxy (entries further left were written by the client and prove nothing).
 */
export function clientAddress(c: Context, isProxy: (address: string | undefined) => boolean): string | undefined {
  let address: string | undefined;
  try {
    address = getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
  if (!isProxy(address)) return address;
  const forwarded = c.req.header('x-forwarded-for');
  if (forwarded === undefined) return address;
  const hops = forwarded.split(',').map((hop) => hop.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] ?? '';
    if (!parseAddress(hop)) return undefined;
    if (!isProxy(hop)) return hop;
  }
  return hops[0];
}

function jwtAuth(config: Extract<CallerAuthConfig, { mode: 'jwt' }>, nameTenant: NameTenant | undefined): MiddlewareHandler<AppEnv> {
  const key: Uint8Array | JWTVerifyGetKey =
    config.jwksUrl !== undefined
      ? createRemoteJWKSet(new URL(config.jwksUrl), { cooldownDuration: config.jwksCooldownMs })
      : new TextEncoder().encode(config.secret ?? '');
  const options = {
    algorithms: [...config.algorithms],
    requiredClaims: config.maxAgeSeconds !== undefined ? ['exp', 'iat'] : ['exp'],
    clockTolerance: config.clockToleranceSeconds,
    ...(config.maxAgeSeconds !== undefined ? { maxTokenAge: config.maxAgeSeconds } : {}),
    ...(config.issuer !== undefined ? { issuer: config.issuer } : {}),
    ...(config.audience !== undefined ? { audience: config.audience } : {}),
  };
  return async (c, next) => {
    const header = c.req.header('authorization');
    const token = header === undefined ? undefined : /^bearer ([\w-]+\.[\w-]+\.[\w-]*)$/i.exec(header)?.[1];
    if (token === undefined) {
      c.header('WWW-Authenticate', 'Bearer');
      throw new Unauthorized('unauthorized', 'a bearer token is required (Authorization: Bearer <JWT>)');
    }
    let claims: Record<string, unknown>;
    try {
      claims = (await jwtVerify(token, key as JWTVerifyGetKey, options)).payload;
    } catch (err) {
      // The key set could not be fetched (timeout, refused, a non-200 answer, not a key set): our
      // dependency failed, not the caller's token. jose reports a bad HTTP status as its generic error.
      if (
        err instanceof joseErrors.JWKSTimeout ||
        err instanceof joseErrors.JWKSInvalid ||
        !(err instanceof joseErrors.JOSEError) ||
        err.code === 'ERR_JOSE_GENERIC'
      ) {
        throw new Unavailable('jwks_unavailable', 'the token keys cannot be fetched right now; retry shortly', 1);
      }
      c.header('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new Unauthorized('unauthorized', describeJoseError(err));
    }
    const claim = claims[config.tenantClaim];
    if (typeof claim !== 'string' || !isUuid(claim)) {
      throw new Forbidden('invalid_tenant_claim', `the token's ${config.tenantClaim} claim must be a tenant UUID`);
    }
    const tenantId = claim.toLowerCase();
    if (nameTenant !== undefined) {
      // The host only says which tenant is meant; the token decides which one the caller may act for.
      if ((await nameTenant(c)) !== tenantId) {
        throw new Forbidden('tenant_mismatch', `the Host header names another tenant than the token's ${config.tenantClaim} claim`);
      }
    } else {
      const requested = readTenantHeader(c, false);
      if (requested !== undefined && requested !== tenantId) {
        throw new Forbidden('tenant_mismatch', `x-tenant-id does not match the token's ${config.tenantClaim} claim`);
      }
    }
    c.set('tenantId', tenantId);
    await next();
  };
}

function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `the token's ${err.claim} claim is not acceptable`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm that is not allowed';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no key matches the token';
  return 'the token is not valid';
}
