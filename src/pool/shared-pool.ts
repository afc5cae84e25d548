// The shared pool for the long tail of tenants: connections logged in as the authenticator role, which
// is NOINHERIT, holds no rights of its own and is a member of every tenant role. A request is ONE
// simple-protocol message, `SELECT set_config('role', 't_…', true); <statement>; RESET ROLE`
// (set_config with is_local = true is SET LOCAL ROLE). PostgreSQL runs the message
// as one implicit transaction: after an error everything is rolled back, the role included; after
// success the LOCAL role ends with the transaction, and the trailing RESET also undoes any session-level
// SET ROLE (PostgreSQL checks SET ROLE against the session user, the authenticator, so one inside the
// message would otherwise outlive it). Either way the next message starts as the powerless
// authenticator. No connection per request, one round trip.
//
// Within the message the statement could switch to any tenant, so its text must be ours alone: builders
// from src/db/statement.ts, whitelisted identifiers, and values as escaped literals (property-tested).
import postgres, { type Row, type Sql } from 'postgres';
import { driverOptions } from '../db/driver-options.js';
import { quoteLiteral } from '../db/quote.js';

// Column name of the role switch's own result row, so it can be told apart from the statement's rows.
const SWITCHED = 'tenantgate_role_switched';

const TENANT_ROLE = /^t_[0-9a-f]{32}$/;

export interface SharedPool {
  /** Runs `statement` (values already inlined as literals) as `role`; returns the statement's rows. */
  run(role: string, statement: string): Promise<Row[]>;
  readonly sql: Sql;
  end(timeoutSeconds?: number): Promise<void>;
}

export interface SharedPoolOptions {
  readonly databaseUrl: string;
  readonly username: string;
  readonly password: string;
  readonly max: number;
  readonly idleTimeoutSeconds: number;
  readonly connectTimeoutSeconds: number;
  /** PostgreSQL cancels a statement running longer than this (statement_timeout). */
  readonly statementTimeoutMs: number;
}

export function createSharedPool(options: SharedPoolOptions): SharedPool {
  const sql = postgres(options.databaseUrl, {
    username: options.username,
    password: options.password,
    ...driverOptions(options.connectTimeoutSeconds),
    max: options.max,
    idle_timeout: options.idleTimeoutSeconds,
    // UTF-8 keeps inlined literals unambiguous (see quoteLiteral).
    connection: {
      application_name: 'tenantgate-shared',
      TimeZone: 'UTC',
      client_encoding: 'UTF8',
      // Timestamps are read as text (src/users/response.ts): the ISO style, whatever the server's default.
      DateStyle: 'ISO',
      statement_timeout: options.statementTimeoutMs,
    },
  });
  return {
    sql,
    async run(role, statement) {
      // Role names come from the catalog, never from a request; the shape check is a second lock.
      if (!TENANT_ROLE.test(role)) throw new RangeError('not a tenant role');
      // set_config(…, true) is SET LOCAL ROLE as a function: measurably cheaper than the utility
      // statement, and its value goes through the same role check (membership of the session user).
      const results = (await sql.unsafe(
        `SELECT set_config('role', ${quoteLiteral(role)}, true) AS ${SWITCHED}; ${statement}; RESET ROLE`,
      )) as unknown as Row[][];
      // postgres.js does not always file each statement's rows under its own result in a multi-statement
      // message, so gather all rows and drop the role switch's own.
      return results.flat().filter((row) => !(SWITCHED in row));
    },
    end: (timeoutSeconds = 10) => sql.end({ timeout: timeoutSeconds }),
  };
}
