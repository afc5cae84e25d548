// The embedded server's output is repeated in the gateway's log only as lifecycle messages, or as a
// bare severity: never a statement, a bind value or an error message that may quote tenant data.
import { describe, expect, it } from 'vitest';
import { serverLogEntry } from '../../src/db/server-log.js';

const PREFIX = '2026-12-01 13:00:00.123 UTC [4242] ';
const SECRET = 'canary-7f3a';

describe('embedded server log lines', () => {
  it.each([
    'LOG:  database system is ready to accept connections',
    'LOG:  starting PostgreSQL 18.0 on x86_64-pc-linux-gnu, compiled by gcc',
    'LOG:  listening on IPv4 address "127.0.0.1", port 5432',
    'LOG:  received fast shutdown request',
    'LOG:  checkpoint complete: wrote 3 buffers (0.0%); 0 WAL file(s) added',
    'LOG:  database system is shut down',
  ])('repeats the lifecycle message %s', (line) => {
    const entry = serverLogEntry(PREFIX + line);
    expect(entry).toEqual({ severity: 'LOG', message: line.replace(/^LOG:\s+/, '') });
  });

  it.each([
    `STATEMENT:  SELECT * FROM users WHERE first_name ILIKE '%${SECRET}%'`,
    `DETAIL:  Key (name)=(${SECRET}) already exists.`,
    `DETAIL:  parameters: $1 = '${SECRET}', $2 = '10'`,
    `CONTEXT:  unnamed portal with parameters: $1 = '${SECRET}'`,
    `LOG:  execute s1: SELECT 1 WHERE $1 = '${SECRET}'`,
    `LOG:  duration: 1.2 ms  statement: SELECT '${SECRET}'`,
    `LOG:  statement: SELECT '${SECRET}'`,
    `HINT:  No function matches ${SECRET}`,
    `NOTICE:  ${SECRET}`,
    `The files belonging to this database system will be owned by user "${SECRET}".`,
  ])('drops %s', (line) => {
    expect(serverLogEntry(PREFIX + line)).toBeUndefined();
  });

  it.each([
    [`ERROR:  duplicate key value violates unique constraint "tenants_name_key" (${SECRET})`, 'ERROR'],
    [`ERROR:  invalid input syntax for type uuid: "${SECRET}"`, 'ERROR'],
    [`FATAL:  password authentication failed for user "${SECRET}"`, 'FATAL'],
    [`WARNING:  ${SECRET}`, 'WARNING'],
  ])('keeps only the severity of %s', (line, severity) => {
    const entry = serverLogEntry(PREFIX + line);
    expect(entry).toEqual({ severity, withheld: true });
    expect(JSON.stringify(entry)).not.toContain(SECRET);
  });

  it('does not take a quoted statement that merely looks like a lifecycle message', () => {
    expect(serverLogEntry(`${PREFIX}LOG:  statement: SELECT 'database system is ready to accept connections ${SECRET}'`)).toBeUndefined();
  });
});
