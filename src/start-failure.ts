// The one line a failed start prints: what went wrong in the operator's terms (which variable, which
// address), never a stack trace, a password or a query.
import { ConfigError, type Config } from './config.js';
import { errorFacts } from './log.js';

export interface StartTarget {
  /** Where the gateway was to listen (HOST:PORT). */
  readonly listen: string;
  /** The catalog's server as host:port, when DATABASE_URL names one. */
  readonly database?: string;
}

const UNREACHABLE: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name could not be resolved',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  CONNECT_TIMEOUT: 'no answer within CONNECT_TIMEOUT',
  ECONNRESET: 'connection reset',
};

// PostgreSQL refused us: authentication, a missing database or role, too many connections.
const REFUSED_BY_SERVER = new Set(['28P01', '28000', '3D000', '53300', '57P03']);

export function startFailureMessage(err: unknown, target: StartTarget): string {
  if (err instanceof ConfigError) {
    if (err.problems.length === 1) return `configuration error: ${err.message}`;
    return [`configuration error: ${err.problems.length} invalid variables`, ...err.problems.map((p) => `  ${p.variable}: ${p.message}`)].join('\n');
  }
  const { code, message } = errorFacts(err);
  const syscall = (err as { syscall?: unknown } | null)?.syscall;
  if (code === 'EADDRINUSE') return `failed to start: ${target.listen} is already in use: stop the process listening there or choose another PORT`;
  if (code === 'EACCES' && syscall === 'listen') return `failed to start: not allowed to listen on ${target.listen}: choose a PORT above 1023`;
  if (code === 'EADDRNOTAVAIL' && syscall === 'listen') return `failed to start: ${target.listen}: HOST is not an address of this machine`;
  if (target.database !== undefined && code !== undefined) {
    const reason = UNREACHABLE[code];
    if (reason !== undefined) return `failed to start: cannot reach PostgreSQL at ${target.database} (DATABASE_URL): ${reason}`;
    if (REFUSED_BY_SERVER.has(code)) return `failed to start: PostgreSQL at ${target.database} (DATABASE_URL) refused the connection: ${message}`;
  }
  return `failed to start: ${message}`;
}

export function startTarget(config: Config): StartTarget {
  const listen = `${config.host}:${config.port}`;
  if (config.database.kind !== 'url') return { listen };
  // host:port only: the URL's user and password stay out of the message.
  const url = new URL(config.database.url);
  return { listen, database: `${url.hostname}:${url.port === '' ? '5432' : url.port}` };
}
