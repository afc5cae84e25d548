// Runs a write under an Idempotency-Key: the first request with the key writes and records its answer;
// a retry with the same request gets that answer without writing; the same key with another request is
// 422. A concurrent duplicate waits on the first one's key (in PostgreSQL, see statements.ts) and then
// answers from its record. Records are the tenant's own: another tenant's key of the same text is
// another record.
import type { Row } from 'postgres';
import { Conflict, UnprocessableEntity } from '../errors.js';
import { rowsOf, type RunStatement } from '../users/list-page.js';
import type { TenantScope } from '../users/queries.js';
import { idempotentWriteStatement, releaseExpiredKeyStatement, type GuardedWrite, type IdempotencyRecord } from './statements.js';

export interface IdempotentOutcome {
  readonly status: number;
  /** The written row, as the statement returned it the first time. */
  readonly row: Row;
  readonly replayed: boolean;
}

/**
 * Rounds: the write, then after a key race (a duplicate committed first, or an expired record holds
 * the key) the expired record released and the write run again, which now finds the record. Three
 * rounds cover both at once; more means the key keeps being fought over: 409, retry later.
 */
const ROUNDS = 3;

/** Undefined when the write matched nothing (and so recorded nothing). */
export async function idempotentWrite(
  run: RunStatement,
  scope: TenantScope,
  record: IdempotencyRecord,
  write: GuardedWrite,
): Promise<IdempotentOutcome | undefined> {
  for (let round = 1; ; round++) {
    let rows: Row[];
    try {
      rows = await rowsOf(run, idempotentWriteStatement(scope, record, write));
    } catch (err) {
      if (round >= ROUNDS || !(err instanceof Conflict && err.code === 'idempotency_key_in_use')) throw err;
      await run(releaseExpiredKeyStatement(scope, record.key));
      continue;
    }
    const [row] = rows;
    if (row === undefined) return undefined;
    if (row.replay !== true) return { status: record.status, row: row.response as Row, replayed: false };
    if (row.fingerprint !== record.fingerprint) {
      throw new UnprocessableEntity('idempotency_key_reused', 'this Idempotency-Key was already used with another request; use a new key for a new request');
    }
    return { status: Number(row.status), row: row.response as Row, replayed: true };
  }
}
