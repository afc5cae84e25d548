import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startFailureMessage, startTarget } from '../../src/start-failure.js';

const target = { listen: '0.0.0.0:8080', database: 'db.internal:5432' };

function errnoError(code: string, syscall: string, message = `${syscall} ${code}`): Error {
  return Object.assign(new Error(message), { code, syscall });
}

describe('startFailureMessage', () => {
  it('says why the database cannot be reached, in words, for each network failure', () => {
    expect(startFailureMessage(errnoError('ENOTFOUND', 'getaddrinfo'), target)).toBe(
      'failed to start: cannot reach PostgreSQL at db.internal:5432 (DATABASE_URL): host not found',
    );
    expect(startFailureMessage(errnoError('CONNECT_TIMEOUT', 'connect'), target)).toContain('no answer within CONNECT_TIMEOUT');
  });

  it('passes on what PostgreSQL said when it refused us', () => {
    const refused = Object.assign(new Error('password authentication failed for user "gw"'), { code: '28P01' });
    expect(startFailureMessage(refused, target)).toBe(
      'failed to start: PostgreSQL at db.internal:5432 (DATABASE_URL) refused the connection: password authentication failed for user "gw"',
    );
  });

  it('names the listening address for a port that is taken or not allowed', () => {
    expect(startFailureMessage(errnoError('EADDRINUSE', 'listen'), target)).toContain('0.0.0.0:8080 is already in use');
    expect(startFailureMessage(errnoError('EACCES', 'listen'), target)).toContain('not allowed to listen on 0.0.0.0:8080');
  });

  it('one configuration problem is one line; several are a list', () => {
    expect(startFailureMessage(new ConfigError('PORT', 'must be an integer'), target)).toBe('configuration error: PORT: must be an integer');
    const both = new ConfigError([
      { variable: 'PORT', message: 'must be an integer' },
      { variable: 'POOL_MAX', message: 'must be at least 1' },
    ]);
    expect(startFailureMessage(both, target)).toBe('configuration error: 2 invalid variables\n  PORT: must be an integer\n  POOL_MAX: must be at least 1');
  });

  it('the target carries host:port of DATABASE_URL, never its user or password', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://gw:s3cret@db.internal/tenantgate',
      CREDENTIALS_KEY: 'ab'.repeat(32),
      ADMIN_JWT_SECRET: 'x'.repeat(32),
      PORT: '9000',
    });
    expect(startTarget(config)).toEqual({ listen: '127.0.0.1:9000', database: 'db.internal:5432' });
  });
});
