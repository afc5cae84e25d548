// A data server's owner URL, as given to POST /v1/admin/servers: checked, and split into the part that
// is stored and shown (everything but the password) and the password, which is sealed. The password is
// put back only when the gateway connects.
import { BadRequest } from '../errors.js';

export interface SplitServerUrl {
  /** The URL without its password: safe to store, log and return. */
  readonly publicUrl: string;
  /** The password ('' when the URL has none). */
  readonly password: string;
}

const PROTOCOLS: ReadonlySet<string> = new Set(['postgres:', 'postgresql:']);

export function splitServerUrl(raw: string): SplitServerUrl {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BadRequest('invalid_field', 'url must be a postgres:// URL', 'url');
  }
  if (!PROTOCOLS.has(url.protocol)) throw new BadRequest('invalid_field', 'url must start with postgres:// or postgresql://', 'url');
  if (url.hostname === '') throw new BadRequest('invalid_field', 'url must name a host', 'url');
  if (url.username === '') throw new BadRequest('invalid_field', 'url must name the user that owns the database (user@host)', 'url');
  const database = decoded(url.pathname.replace(/^\//, ''), 'its database');
  if (database === '' || database.includes('/')) throw new BadRequest('invalid_field', 'url must name one database (postgres://user@host/database)', 'url');
  if (url.hash !== '') throw new BadRequest('invalid_field', 'url must not have a #fragment', 'url');
  const password = decoded(url.password, 'its password');
  url.password = '';
  return { publicUrl: url.toString(), password };
}

/** A percent-decoded part; a malformed escape (`%zz`) is the caller's mistake, not a crash. */
function decoded(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new BadRequest('invalid_field', `url has a malformed percent-escape in ${what}`, 'url');
  }
}

/** The URL to connect with: the stored public URL and the opened password. */
export function joinServerUrl(publicUrl: string, password: string): string {
  const url = new URL(publicUrl);
  if (password !== '') url.password = encodeURIComponent(password);
  return url.toString();
}

/** A URL with any password removed, for logs and answers. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.password = '';
    return url.toString();
  } catch {
    return '(not a URL)';
  }
}
