// TENANT_FROM=host: a request names its tenant by the one label its Host has before TENANT_BASE_DOMAIN
// (acme.example.com → the tenant named "acme"), for deployments that give each tenant a subdomain.
// Naming is not trusting: the Host header is written by the client like any other header, so the
// caller is authenticated first (src/http/caller-auth.ts) and, in jwt mode, the token's claim must
// still be the tenant the host names. This module only reads the name and turns it into an id.
import type { Context } from 'hono';
import { BadRequest } from '../errors.js';
import { readTenantHeader } from './tenant-id.js';

/** How a request names its tenant (TENANT_FROM). */
export type TenantSource = { readonly from: 'header' } | { readonly from: 'jwt' } | { readonly from: 'host'; readonly baseDomain: string };

/** Name → id look-ups, cached (src/tenants/names.ts). */
export interface TenantNameLookup {
  /** The cached id, or undefined (then `idOf` decides): no I/O, no promise. */
  peekIdOf(name: string): string | undefined;
  /** The id of the tenant with this name, or NotFound(tenant_not_found). */
  idOf(name: string): Promise<string>;
}

// One DNS label (RFC 1123), lower case: what a tenant name must look like to be reachable by host.
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// A host as HTTP carries it, before we judge it: a name with an optional port. Bracketed IPv6
// literals and anything with user info or spaces do not match, so they are refused, not guessed at.
const HOST_AND_PORT = /^([^:@\s[\]/]*)(?::\d{1,5})?$/;

/** True for a lower-case DNS name without a trailing dot (`example.com`, `localhost`). */
export function isDnsName(text: string): boolean {
  return text.length > 0 && text.length <= 253 && text.split('.').every((label) => LABEL.test(label));
}

/** The host name of a Host value (or a URL authority): lower-cased, port dropped; undefined if malformed. */
function hostnameOf(host: string): string | undefined {
  return HOST_AND_PORT.exec(host.toLowerCase())?.[1];
}

/**
 * The tenant name a Host header gives under `baseDomain`: exactly one label before it. Anything else
 * (no Host, the base domain itself, deeper or foreign names, IP literals) is a 400 naming the header.
 */
export function tenantNameFromHost(host: string | undefined, baseDomain: string): string {
  if (host === undefined || host.trim() === '') {
    throw new BadRequest('missing_host', 'the Host header is required: it names the tenant (<tenant>.' + baseDomain + ')', 'host');
  }
  let hostname = hostnameOf(host.trim());
  if (hostname === undefined || hostname === '') {
    throw new BadRequest('invalid_host', `the Host header must be a host name like <tenant>.${baseDomain}`, 'host');
  }
  // `acme.example.com.` is the same DNS name written fully qualified.
  if (hostname.endsWith('.')) hostname = hostname.slice(0, -1);
  const suffix = `.${baseDomain}`;
  if (!hostname.endsWith(suffix) || hostname.length === suffix.length) {
    throw new BadRequest('invalid_host', `the Host header must name a tenant as <tenant>.${baseDomain}`, 'host');
  }
  const label = hostname.slice(0, -suffix.length);
  if (label.includes('.')) {
    throw new BadRequest('invalid_host', `the Host header must have exactly one label before ${baseDomain}, like acme.${baseDomain}`, 'host');
  }
  if (!LABEL.test(label)) {
    throw new BadRequest('invalid_host', `the Host header's tenant label must be 1–63 of a-z, 0-9 and inner hyphens`, 'host');
  }
  return label;
}

/**
 * The tenant id a request names by its Host: a string when the name is cached (no promise on the hot
 * path), else a promise. An x-tenant-id sent as well must be the same tenant: two names for the request
 * that disagree are a client bug we refuse rather than silently pick one of.
 */
export function hostTenantResolver(baseDomain: string, names: TenantNameLookup): (c: Context) => string | Promise<string> {
  return (c) => {
    const header = c.req.header('host') ?? '';
    const name = tenantNameFromHost(header, baseDomain);
    // A request in absolute form (`GET http://globex.example.com/… HTTP/1.1`) is routed by its target
    // (RFC 9112 §3.2.2), which the server copies into the URL: refuse it when it disagrees with Host.
    const url = c.req.url;
    const start = url.indexOf('//') + 2;
    const end = url.indexOf('/', start);
    if (hostnameOf(url.slice(start, end === -1 ? undefined : end)) !== hostnameOf(header.trim())) {
      throw new BadRequest('invalid_host', 'the request target names another host than the Host header', 'host');
    }
    const requested = readTenantHeader(c, false);
    const agree = (id: string): string => {
      if (requested !== undefined && requested !== id) {
        throw new BadRequest('conflicting_tenant_id', 'x-tenant-id names another tenant than the Host header', 'x-tenant-id');
      }
      return id;
    };
    const cached = names.peekIdOf(name);
    return cached !== undefined ? agree(cached) : names.idOf(name).then(agree);
  };
}
