// Moves one tenant (row or schema model) from one PostgreSQL server to another while it is served:
// prepare its copy on the target, capture its writes on the source, copy a snapshot, catch up, fence its
// writes in the source database, drain, switch its placement (the caller's catalog update), then after
// a grace period remove the old copy. Anything failing before the switch is rolled back: the tenant stays
// on the source, unfenced, and the move can be run again from the start.
import { randomBytes } from 'node:crypto';
import type { ReservedSql } from 'postgres';
import { Conflict } from '../errors.js';
import { beginCapture, endCapture, fence, recordedMove } from './capture.js';
import { catchUpRound, pendingChanges } from './catch-up.js';
import { copySnapshot } from './copy.js';
import { DEFAULT_FENCE_POLICY, readyToFence, type FencePolicy } from './fence-policy.js';
import { DEFAULT_LOCK_RETRY, isLockTimeout, type LockRetry } from './lock-retry.js';
import { inSharedTables, type MoveServer, type MovingTenant } from './parties.js';
import { checkDistinctClusters, checkNoMembersOfOwner } from './preflight.js';
import { moveFailed, rollBack, summary, withRetries } from './rollback.js';
import { removeSourceCopy } from './source-cleanup.js';
import { movedTables, type MovedTable } from './tables.js';
import { prepareTarget } from './target-copy.js';

export type MoveStep = 'prepare' | 'capture' | 'copy' | 'catch-up' | 'fence' | 'switch' | 'grace' | 'cleanup';

export interface MoveOptions {
  readonly tenant: MovingTenant;
  readonly source: MoveServer;
  readonly target: MoveServer;
  /**
   * Points the tenant at the target in the catalog (and so every instance). Must throw only when it did
   * not switch: the move is then rolled back.
   */
  readonly switchPlacement: () => Promise<void>;
  /** Time between the switch and removing the old copy (stale instances meet the fence meanwhile). Default 5 s. */
  readonly graceMs?: number;
  /** Rows per page of the snapshot copy, and changes per catch-up batch. Default 5,000. */
  readonly pageRows?: number;
  readonly fencePolicy?: FencePolicy;
  /** How long the fence waits for the tenant's writers in flight (they, and new ones, wait meanwhile). Default 1 s. */
  readonly fenceTimeoutMs?: number;
  /** Fence attempts, a catch-up round between them, before the move gives up. Default 5. */
  readonly fenceAttempts?: number;
  /** Capture trigger DDL on the source (shared tables: every tenant waits on it). */
  readonly lockRetry?: LockRetry;
  /** Called as each step starts; a throw fails the move there (rolled back before 'switch'). */
  readonly onStep?: (step: MoveStep) => void | Promise<void>;
  /** Why the old copy could not be removed after the switch (code and message; the report says it was not). */
  readonly onCleanupError?: (err: unknown) => void;
}

export interface MoveReport {
  /** Rows in the snapshot copy. */
  readonly rows: number;
  /** Changes applied by catch-up and the final drain. */
  readonly changes: number;
  readonly copyMs: number;
  readonly catchUpRounds: number;
  readonly fenceAttempts: number;
  /** From the start of the fence that held to the end of the switch: the tenant's writes wait this long. */
  readonly pauseMs: number;
  /** The pause's parts: waiting for writers in flight, applying the last changes, the caller's switch. */
  readonly pause: { readonly fenceMs: number; readonly drainMs: number; readonly switchMs: number };
  /** Until the switch (the old copy's removal after the grace period not included). */
  readonly switchedAfterMs: number;
  /** False when removing the old copy failed: it stays fenced on the source (see onCleanupError). */
  readonly oldCopyRemoved: boolean;
  readonly cleanupMs: number;
  readonly totalMs: number;
  /** The tenant-data version of its schema on the target (null under the row model). */
  readonly dataVersion: number | null;
}

// "tenantgate move" (int4): with the tenant id's hash, the advisory lock a mover holds on the source.
export const MOVE_LOCK_CLASS = 730_553_124;

interface Resolved extends Required<Omit<MoveOptions, 'onStep'>> {
  readonly tables: readonly MovedTable[];
  step(step: MoveStep): Promise<void>;
}

function resolve(options: MoveOptions): Resolved {
  return {
    tenant: options.tenant,
    source: options.source,
    target: options.target,
    switchPlacement: options.switchPlacement,
    graceMs: options.graceMs ?? 5_000,
    pageRows: options.pageRows ?? 5_000,
    fencePolicy: options.fencePolicy ?? DEFAULT_FENCE_POLICY,
    fenceTimeoutMs: options.fenceTimeoutMs ?? 1_000,
    fenceAttempts: options.fenceAttempts ?? 5,
    lockRetry: options.lockRetry ?? DEFAULT_LOCK_RETRY,
    onCleanupError: options.onCleanupError ?? (() => undefined),
    tables: movedTables(options.tenant.model, options.tenant.placement),
    step: async (step) => {
      await options.onStep?.(step);
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function moveTenant(options: MoveOptions): Promise<MoveReport> {
  const started = Date.now();
  // A database tenant's tables are in a database of its own, which these connections do not reach.
  if (options.tenant.placement.model === 'database') {
    throw new Conflict('move_model_unsupported', 'only row-model (rls) and schema-model tenants can be moved');
  }
  const o = resolve(options);
  const { tenant, source } = o;
  const session = await source.sql.reserve();
  try {
    const [lock] = await session<{ ok: boolean }[]>`SELECT pg_try_advisory_lock(${MOVE_LOCK_CLASS}, hashtext(${tenant.id})) AS ok`;
    if (!lock?.ok) throw new Conflict('tenant_move_in_progress', `tenant ${tenant.id} is already being moved`);
    try {
      const moved = await moveLocked(o, session);
      const cleanupStarted = Date.now();
      await o.step('grace');
      await sleep(o.graceMs);
      await o.step('cleanup');
      const oldCopyRemoved = await removeOldCopy(o);
      return { ...moved, oldCopyRemoved, cleanupMs: Date.now() - cleanupStarted, totalMs: Date.now() - started };
    } finally {
      await session`SELECT pg_advisory_unlock(${MOVE_LOCK_CLASS}, hashtext(${tenant.id}))`.catch(() => undefined);
    }
  } finally {
    await session`RESET application_name`.catch(() => undefined);
    session.release();
  }
}

type Moved = Omit<MoveReport, 'cleanupMs' | 'totalMs' | 'oldCopyRemoved'>;

/**
 * After the switch the move has happened whatever this does: a failure leaves the old copy fenced on
 * the source (stale writers still fail there) for removeSourceCopy to finish later, and is reported, not
 * thrown.
 */
async function removeOldCopy(o: Resolved): Promise<boolean> {
  try {
    await withRetries(() => removeSourceCopy(o.source, o.tenant, o.tables, o.lockRetry));
    return true;
  } catch (err) {
    o.onCleanupError(summary(err));
    return false;
  }
}

/** Up to the switch, holding the move's lock; rolls back on failure. */
async function moveLocked(o: Resolved, session: ReservedSql): Promise<Moved> {
  const started = Date.now();
  const { tenant, source, target } = o;
  await checkDistinctClusters(session, target.sql, `tenantgate-move-${randomBytes(8).toString('hex')}`);
  await checkNoMembersOfOwner(source.sql, tenant.role);
  await checkNoMembersOfOwner(target.sql, tenant.role);
  // A move record nobody holds the lock of: a mover that died before the switch (the caller moves the
  // tenant from where the catalog places it, so the switch never happened). Start again from scratch.
  if ((await recordedMove(source.sql, tenant.id)) !== undefined) await endCapture(source.sql, tenant.id, o.tables, o.lockRetry);
  try {
    return await untilSwitch(o, started);
  } catch (err) {
    const rollback = await rollBack(o.source, o.target, o.tenant, o.tables, o.lockRetry).then(
      () => undefined,
      (e: unknown) => e,
    );
    throw moveFailed(err, rollback);
  }
}

async function untilSwitch(o: Resolved, started: number): Promise<Moved> {
  const { tenant, source, target, tables } = o;
  await o.step('prepare');
  const dataVersion = await prepareTarget(target, tenant, tables);
  if (dataVersion !== tenant.placement.dataVersion) {
    throw new Conflict('tenant_data_behind', `the tenant's schema is at version ${tenant.placement.dataVersion}, not ${dataVersion}: migrate it first`);
  }
  await o.step('capture');
  await beginCapture(source.sql, tenant.id, tables, o.lockRetry);
  await o.step('copy');
  const copyStarted = Date.now();
  const rows = await copySnapshot(source.sql, target.sql, tenant, tables, o.pageRows);
  const copyMs = Date.now() - copyStarted;
  await o.step('catch-up');
  let changes = 0;
  let rounds = 0;
  for (;;) {
    const applied = await catchUpRound(source.sql, target.sql, tenant, tables, o.pageRows);
    changes += applied;
    rounds++;
    if (readyToFence(applied, rounds, o.fencePolicy)) break;
  }
  await o.step('fence');
  const fenced = await fenceWithRetry(o);
  changes += fenced.applied;
  // Fenced: nothing commits to the tenant's tables any more, so one round (batches until a short one)
  // applies all there is. A change logged after it means something wrote past the fence: fail (and roll
  // back) rather than switch.
  const drainStarted = Date.now();
  changes += await catchUpRound(source.sql, target.sql, tenant, tables, o.pageRows);
  if ((await pendingChanges(source.sql, tenant.id)) > 0) throw new Error('the tenant was still written to after its fence');
  await o.step('switch');
  const switchStarted = Date.now();
  await o.switchPlacement();
  // Back on the catalog's server: the fence an earlier move left there (source-cleanup.ts) is lifted
  // now, not before, so no stale instance could write there while this copy was made. Forgetting the
  // move record lifts it (the capture function then lets every write through); dropping the triggers
  // takes a table lock, so it waits until after the pause.
  const lifting = target.hostsCatalog && inSharedTables(tenant);
  if (lifting) {
    // After the switch a failure cannot roll the move back: it is reported, and the tenant's writes get
    // 503 tenant_moving until the record goes (its next move clears it, as a dead mover's).
    await target.sql`DELETE FROM tenantgate_moves WHERE tenant_id = ${tenant.id}`.catch((err: unknown) => o.onCleanupError(summary(err)));
  }
  const switchedAt = Date.now();
  // The move has happened whatever this does: a failure leaves inert triggers, reported, never rolled back.
  if (lifting) await endCapture(target.sql, tenant.id, tables, o.lockRetry).catch((err: unknown) => o.onCleanupError(summary(err)));
  return {
    rows,
    changes,
    copyMs,
    catchUpRounds: rounds,
    fenceAttempts: fenced.attempts,
    pauseMs: switchedAt - fenced.at,
    pause: { fenceMs: drainStarted - fenced.at, drainMs: switchStarted - drainStarted, switchMs: switchedAt - switchStarted },
    switchedAfterMs: switchedAt - started,
    dataVersion,
  };
}

/** Fences; when writers in flight outlast the timeout, catches up once more and tries again. */
async function fenceWithRetry(o: Resolved): Promise<{ at: number; attempts: number; applied: number }> {
  let applied = 0;
  for (let attempt = 1; ; attempt++) {
    const at = Date.now();
    try {
      await fence(o.source.sql, o.tenant.id, o.fenceTimeoutMs);
      return { at, attempts: attempt, applied };
    } catch (err) {
      if (!isLockTimeout(err) || attempt >= o.fenceAttempts) throw err;
      applied += await catchUpRound(o.source.sql, o.target.sql, o.tenant, o.tables, o.pageRows);
    }
  }
}
