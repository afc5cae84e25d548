// Database failures become the gateway's own errors, and logs keep the code that caused them (the
// answer never does).
import { describe, expect, it } from 'vitest';
import { translateDbError } from '../../src/db/errors.js';
import { errorFacts } from '../../src/log.js';

function pgError(code: string): Error {
  return Object.assign(new Error('terminating connection due to administrator command'), { code });
}

describe('translateDbError', () => {
  it.each([
    ['57P01', 503, 'database_unavailable'],
    ['CONNECTION_CLOSED', 503, 'database_unavailable'],
    ['28P01', 503, 'database_unavailable'],
    ['57014', 503, 'database_timeout'],
    ['TG001', 503, 'tenant_scope_unavailable'],
    ['TG002', 503, 'tenant_moving'],
    ['23505', 409, 'conflict'],
  ])('%s becomes %i %s, and the log line keeps %s', (code, status, answer) => {
    const translated = translateDbError(pgError(code));
    expect(translated?.status).toBe(status);
    expect(translated?.code).toBe(answer);
    expect(errorFacts(translated)).toMatchObject({ code: answer, causeCode: code });
  });

  it('leaves errors it does not understand to the caller (a bug: 500)', () => {
    expect(translateDbError(pgError('42P01'))).toBeUndefined();
  });
});
