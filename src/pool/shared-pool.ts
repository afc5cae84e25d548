// The shared pool for the long tail of tenants: connections logged in as ONE powerless shared role (see
// sql/004) whose RLS policy reads the session setting `tenantgate.tenant_id`. A request is the
// setting and its prepared statement pipelined on one connection (one network write, one round trip):
//
//   SET tenantgate.tenant_id = '<tenant uuid>'    -- only when the connection's scope differs
//   <prepared statement with tenant_id = $n and tenantgate_check_scope($n)>
//
// The SET is a simple-protocol utility statement: no plan, no portal, no row to read, measurably
// cheaper for PostgreSQL and for the driver than a prepared `SELECT set_config($1)` (bench/README.md).
// Its only value is the tenant's id, found in the catalog and checked again to be a UUID by the
// isolation model (src/isolation/rls.ts), through quoteLiteral, the one tested escaping function;
// tenant-supplied values stay bind parameters.
//
// Schema tenants (src/isolation/schema.ts) run statements that name their own schema's tables
// (src/db/tenant-tables.ts): a text per tenant, so a prepared statement per tenant and connection. Each
// schema tenant runs on one of two home connections, where its statements stay prepared, and each
// connection keeps at most SHARED_POOL_PREPARED_MAX statements (the least recently used are closed on
// the server). No
// session's search_path ever changes: every session runs under STATEMENT_SEARCH_PATH, where an
// unqualified table name resolves to nothing.
//
// The role never changes, so PostgreSQL keeps each prepared statement's plan (a role switch per request
// re-planned every statement). The setting is session-level, so each connection remembers the tenant
// it last served: a tenant that comes back to "its" connection skips the setting altogether, and the
// pool prefers such a connection. That memory is an optimisation, never a trust decision: the statement
// checks the scope itself and fails with TG001 (no rows) when it is missing or stale, in which case the
// pool sets the scope and runs the statement once more.
//
// Each connection is its own postgres.js instance of size 1, so that the setting and the statement
// travel on the same session, in order (postgres.js pipelines queries on one connection) — as long as that
// session lives. When it is lost, postgres.js rejects what it had sent, but carries queries still queued in
// the instance (behind a statement being prepared, or behind the connection being opened) over to the
// next session, and may reject the first query there with the old session's error without sending it
// (postgres.js 3.4: `errorResponse` and `query` survive a reconnect). So a statement may run on a session
// whose scope was never set, or after its own SET failed. That is why the statement, not the pool, is
// the proof: reads check the scope, and an insert by the shared role with no scope raises TG001
// (sql/008), never 42501; and why the pool waits for both the SET and the statement and judges the
// request by the statement's own outcome.
import postgres, { type PendingQuery, type Row, type Sql } from 'postgres';
import { connectionOptions } from '../db/connection-options.js';
import { cancelStatement } from '../db/cancel.js';
import { STALE_SCOPE } from '../db/errors.js';
import type { BoundStatement } from '../db/statement.js';
import { STATEMENT_SEARCH_PATH } from '../db/tenant-tables.js';

/**
 * Prepared statements a shared connection keeps by default (SHARED_POOL_PREPARED_MAX). The row model
 * needs a handful (one text per statement shape, shared by every tenant); a schema tenant needs its own
 * on each of its two homes, about 33 KB each in the backend (bench/README.md, *Schema tenants at
 * scale*). 4,000 per connection holds 10,000 schema tenants' default list over the 8 shared connections
 * of the default configuration (2,500 each) with room to spare: a round robin over more than the bound
 * would find none of them prepared (LRU). At most about 130 MB per backend, reached only when that many
 * distinct statements are in use.
 */
export const PREPARED_PER_CONNECTION = 4000;

export interface SharedPool {
  /**
   * Runs `statement` for `tenantId` (it must check the scope); returns the statement's rows. `home`:
   * the statement's text is the tenant's own (it names the tenant's schema), so run it on the tenant's
   * home connection when that has room, where it is already prepared. `signal`: aborting it cancels the
   * statement (src/db/cancel.ts), sent or not.
   */
  run(tenantId: string, statement: BoundStatement, home?: boolean, signal?: AbortSignal): Promise<Row[]>;
  /** Connections of the pool, for tests and monitoring. */
  readonly connections: readonly Sql[];
  /** Scope changes sent (SET statements), and statements re-run after a stale-scope error. */
  stats(): { readonly scopeSets: number; readonly scopeRetries: number };
  end(timeoutSeconds?: number): Promise<void>;
}

export interface SharedPoolOptions {
  readonly databaseUrl: string;
  readonly username: string;
  readonly password: string;
  readonly max: number;
  /** Statements in flight per connection before another connection is preferred. */
  readonly pipelineDepth: number;
  readonly connectTimeoutSeconds: number;
  /** PostgreSQL cancels a statement running longer than this (statement_timeout). */
  readonly statementTimeoutMs: number;
  /**
   * `session` (default): the scope is a session setting, kept between requests. `transaction`: each
   * request is `BEGIN; SET LOCAL …` + statement + `COMMIT`, pipelined, for backends where only a
   * transaction-local setting reaches where the statement runs (Citus workers, with
   * citus.propagate_set_commands = 'local'). Measured costlier (bench/README.md), so not the default.
   */
  readonly scopeMode?: ScopeMode;
  /** The statement that scopes a session (`local`: its transaction) to a tenant: the isolation model's. */
  readonly scope: (tenantId: string, local: boolean) => string;
  /** Prepared statements kept per connection (PREPARED_PER_CONNECTION unless told). */
  readonly preparedPerConnection?: number;
  /**
   * Keep one generic plan per prepared statement (default). Off for a Citus coordinator, which can
   * route a statement to its shard only when planning it with the tenant's value (src/citus/).
   */
  readonly genericPlans?: boolean;
}

export type ScopeMode = 'session' | 'transaction';

interface Connection {
  readonly sql: Sql;
  /** The tenant whose scope the connection will hold once everything sent so far has run. */
  scope: string | undefined;
  inFlight: number;
}

export function createSharedPool(options: SharedPoolOptions): SharedPool {
  let scopeSets = 0;
  let scopeRetries = 0;
  const transactional = options.scopeMode === 'transaction';
  const connections: Connection[] = [];
  for (let i = 0; i < options.max; i++) {
    const connection: Connection = {
      scope: undefined,
      inFlight: 0,
      sql: postgres(
        options.databaseUrl,
        connectionOptions({
          username: options.username,
          password: options.password,
          max: 1,
          applicationName: 'tenantgate-shared',
          connectTimeoutSeconds: options.connectTimeoutSeconds,
          statementTimeoutMs: options.statementTimeoutMs,
          genericPlans: options.genericPlans ?? true,
          timestampsAsText: true,
          fetchTypes: false,
          searchPath: STATEMENT_SEARCH_PATH,
          maxPrepared: options.preparedPerConnection ?? PREPARED_PER_CONNECTION,
          // A new session starts without the setting: forget the remembered scope.
          onclose: () => {
            connection.scope = undefined;
          },
        }),
      ),
    };
    connections.push(connection);
  }

  /**
   * A schema tenant's two home connections, from its id. Its statements are prepared only where it ran,
   * and PostgreSQL caches the catalog entries of every table a backend touched (≈ 45 KB a schema,
   * bench/README.md), so a schema tenant always runs at one of its two homes: the first while it has
   * pipeline room, else the second, else the less busy of the two (queued beyond PIPELINE_DEPTH rather
   * than sent to a connection that would prepare and plan its statements once more). Each backend then
   * prepares and caches about 2 ÷ SHARED_POOL_MAX of the schema tenants; a second home keeps a tenant
   * whose first is held up by a slow statement moving.
   */
  const homes = (tenantId: string): readonly [Connection, Connection] => {
    const n = Number.parseInt(tenantId.slice(-8), 16);
    const count = connections.length;
    const first = n % count;
    const second = count === 1 ? first : (first + 1 + (Math.floor(n / count) % (count - 1))) % count;
    return [connections[first] as Connection, connections[second] as Connection];
  };

  const atOneOfHomes = (tenantId: string): Connection => {
    const [first, second] = homes(tenantId);
    if (first.inFlight < options.pipelineDepth) return first;
    if (second.inFlight < options.pipelineDepth) return second;
    return second.inFlight < first.inFlight ? second : first;
  };

  /**
   * An idle connection, the tenant's own first (no scope to send); else the tenant's own connection if
   * its pipeline has room; else the least busy. Idle before pipelined: a statement queued behind a
   * slow one waits for it, and the server's cores work on separate connections in parallel.
   */
  const pick = (tenantId: string, atHome: boolean): Connection => {
    if (atHome) return atOneOfHomes(tenantId);
    let idle: Connection | undefined;
    let own: Connection | undefined;
    let best = connections[0] as Connection;
    for (const c of connections) {
      if (c.inFlight === 0) {
        if (c.scope === tenantId) return c;
        idle ??= c;
      } else if (c.scope === tenantId && c.inFlight < options.pipelineDepth && (own === undefined || c.inFlight < own.inFlight)) {
        own = c;
      }
      if (c.inFlight < best.inFlight) best = c;
    }
    return idle ?? own ?? best;
  };

  /** Cancels `query` when `signal` aborts (at once if it already has). */
  const cancelOnAbort = (query: PendingQuery<Row[]>, signal: AbortSignal | undefined): void => {
    if (signal === undefined) return;
    if (signal.aborted) cancelStatement(query);
    else signal.addEventListener('abort', () => cancelStatement(query), { once: true });
  };

  const send = (c: Connection, tenantId: string, statement: BoundStatement, forceScope: boolean, signal?: AbortSignal): Promise<Row[]> => {
    const pending: Promise<unknown>[] = [];
    if (forceScope || c.scope !== tenantId) {
      // Rendered first: a value that is not a tenant id throws here, before anything is counted or sent.
      const text = options.scope(tenantId, false);
      scopeSets++;
      c.scope = tenantId;
      pending.push(c.sql.unsafe(text));
    }
    const query = c.sql.unsafe(statement.text, statement.params, { prepare: true }) as unknown as PendingQuery<Row[]>;
    cancelOnAbort(query, signal);
    const rows: Promise<Row[]> = query;
    pending.push(rows);
    // Both settled, not the first failure: when the SET fails (its session lost) the statement may
    // still run, on the next session (see the top of this file). Only the statement's own outcome says
    // what happened: rows (it proved its scope), TG001 (no or another scope: nothing ran, re-scope and
    // retry), or its own error. Answering on the SET's error alone would leave the statement running
    // after the request was answered.
    return Promise.allSettled(pending).then((settled) => {
      const outcome = settled[settled.length - 1] as PromiseSettledResult<Row[]>;
      if (outcome.status === 'fulfilled' && settled.every((s) => s.status === 'fulfilled')) return outcome.value;
      // Whatever failed, the session's scope is no longer known.
      c.scope = undefined;
      if (outcome.status === 'fulfilled') return outcome.value;
      throw outcome.reason;
    });
  };

  /**
   * The transaction form: three messages in one write (four with the statement's pin). If the statement fails, the transaction is
   * aborted and COMMIT ends it as a rollback, so the next request on the connection starts clean;
   * the scope never outlives the transaction, so there is no scope to remember.
   */
  const sendInTransaction = (c: Connection, tenantId: string, statement: BoundStatement, signal?: AbortSignal): Promise<Row[]> => {
    const begin = c.sql.unsafe(`BEGIN; ${options.scope(tenantId, true)}`);
    scopeSets++;
    const pin = statement.pin === undefined ? undefined : c.sql.unsafe(statement.pin.text, statement.pin.params, { prepare: true });
    const query = c.sql.unsafe(statement.text, statement.params, { prepare: true }) as unknown as PendingQuery<Row[]>;
    cancelOnAbort(query, signal);
    const rows: Promise<Row[]> = query;
    const commit = c.sql.unsafe('COMMIT');
    return Promise.all([begin, pin, rows, commit]).then(() => rows);
  };

  return {
    connections: connections.map((c) => c.sql),
    async run(tenantId, statement, atHome = false, signal) {
      const c = pick(tenantId, atHome);
      c.inFlight++;
      try {
        if (transactional) return await sendInTransaction(c, tenantId, statement, signal);
        try {
          return await send(c, tenantId, statement, false, signal);
        } catch (err) {
          // The session lost its scope behind our back (a reconnect) or it was never what we thought:
          // the statement refused to run. Set it and try once more.
          if ((err as { code?: unknown }).code !== STALE_SCOPE || signal?.aborted) throw err;
          scopeRetries++;
          return await send(c, tenantId, statement, true, signal);
        }
      } finally {
        c.inFlight--;
      }
    },
    stats: () => ({ scopeSets, scopeRetries }),
    end: async (timeoutSeconds = 10) => {
      await Promise.all(connections.map((c) => c.sql.end({ timeout: timeoutSeconds })));
    },
  };
}
