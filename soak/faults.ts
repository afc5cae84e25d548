// The faults, one function each, and what each measures. A fault ends at a defined moment (PostgreSQL
// started again, the gateway ready again, the resume answered…); from then on the affected tenants'
// requests are watched until each has been served again: that is the fault's recovery time, by tenant
// class (hot = dedicated path, cold = shared path).
import type { AdminClient } from './admin.js';
import type { ConnectionSampler } from './connections.js';
import type { SoakDatabase } from './database.js';
import type { GatewayProcess } from './gateway.js';
import type { Ledger, SuspensionWindow } from './ledger.js';
import { FEED_LIMIT_MS, RECOVERY_LIMIT_MS } from './settings.js';
import type { SoakTenant } from './tenants.js';
import { delay, waitUntil } from './time.js';

export const FAULT_KINDS = ['backend-terminate', 'rotate', 'suspend-resume', 'listener-kill', 'pg-restart', 'gateway-kill'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultContext {
  readonly db: SoakDatabase;
  readonly gateway: GatewayProcess;
  readonly admin: AdminClient;
  readonly tenants: readonly SoakTenant[];
  readonly ledger: Ledger;
  readonly connections: ConnectionSampler;
  readonly log: (line: string) => void;
  /** Takes a last reading of the gateway's counters before it is killed. */
  readonly beforeKill: () => Promise<void>;
}

export interface FaultResult {
  readonly kind: FaultKind;
  /** The tenant a tenant-level fault acted on (index), if any. */
  readonly target: number | undefined;
  readonly startedAt: number;
  /** When the fault was over (the moment recovery is measured from). */
  readonly endedAt: number;
  /** When every affected tenant had been served again (undefined: not within RECOVERY_LIMIT_MS). */
  readonly recoveredAt: number | undefined;
  /** Ms from endedAt until the slowest tenant of each class was served again. */
  readonly recoveryMs: { hot?: number; cold?: number };
  /** Fault-specific figures (terminated backends, listener back after, feed delays…). */
  readonly notes: Record<string, number | string>;
}

/** Tenant-level faults alternate between a hot and a cold tenant, and do not all pick the same one. */
function targetFor(tenants: readonly SoakTenant[], cycle: number, offset: number): SoakTenant {
  const hot = tenants.filter((t) => t.klass === 'hot');
  const cold = tenants.filter((t) => t.klass === 'cold');
  const pool = (cycle + offset) % 2 === 0 ? hot : cold;
  return pool[(cycle + offset) % pool.length] as SoakTenant;
}

export async function runFault(kind: FaultKind, cycle: number, ctx: FaultContext, holdMs: number): Promise<FaultResult> {
  const startedAt = Date.now();
  const all = ctx.tenants.map((t) => t.idx);
  switch (kind) {
    case 'backend-terminate': {
      // Every gateway connection but the listener's (that is a fault of its own).
      const victims = await ctx.db.sql<{ pid: number; app: string }[]>`
        SELECT pid, application_name AS app FROM pg_stat_activity
        WHERE application_name LIKE 'tenantgate%' AND application_name <> 'tenantgate-listener' AND pid <> pg_backend_pid()`;
      ctx.connections.exclude(victims.map((v) => v.pid));
      const pids = victims.map((v) => v.pid);
      await ctx.db.sql`SELECT pg_terminate_backend(pid) FROM unnest(${pids}::int[]) AS pid`;
      const endedAt = Date.now();
      const notes: Record<string, number> = {};
      for (const v of victims) notes[`terminated ${v.app}`] = (notes[`terminated ${v.app}`] ?? 0) + 1;
      return finish(kind, undefined, startedAt, endedAt, all, ctx, notes);
    }
    case 'rotate': {
      const target = targetFor(ctx.tenants, cycle, 0);
      const answer = await ctx.admin.until2xx('POST', `/v1/admin/tenants/${target.id}/rotate`);
      return finish(kind, target.idx, startedAt, answer.at, [target.idx], ctx, { 'rotate answered in ms': answer.at - startedAt });
    }
    case 'suspend-resume': {
      const target = targetFor(ctx.tenants, cycle, 1);
      const window: SuspensionWindow = { tenant: target.idx, via: 'api', from: Date.now(), to: undefined, strictFrom: undefined, strictTo: undefined };
      ctx.ledger.suspensions.push(window);
      const suspended = await ctx.admin.until2xx('POST', `/v1/admin/tenants/${target.id}/suspend`);
      window.strictFrom = suspended.at;
      await delay(holdMs);
      window.strictTo = Date.now();
      const resumed = await ctx.admin.until2xx('POST', `/v1/admin/tenants/${target.id}/resume`);
      window.to = resumed.at;
      const refused = ctx.ledger.failures.filter(
        (f) => f.tenant === target.idx && f.label === '403 tenant_suspended' && f.start >= suspended.at && f.end <= resumed.at,
      ).length;
      return finish(kind, target.idx, startedAt, resumed.at, [target.idx], ctx, {
        'suspended for ms': resumed.at - suspended.at,
        '403 while suspended': refused,
      });
    }
    case 'listener-kill':
      return listenerKill(cycle, ctx, startedAt);
    case 'pg-restart': {
      await ctx.db.stop();
      const stoppedAt = Date.now();
      await delay(holdMs);
      await ctx.db.start();
      const endedAt = Date.now();
      return finish(kind, undefined, startedAt, endedAt, all, ctx, { 'stop took ms': stoppedAt - startedAt, 'down for ms': endedAt - stoppedAt });
    }
    case 'gateway-kill': {
      await ctx.beforeKill();
      const window = { from: Date.now(), to: undefined as number | undefined };
      ctx.ledger.gatewayDown.push(window);
      const killedAt = Date.now();
      ctx.connections.excludeStartedBefore(killedAt);
      await ctx.gateway.kill();
      await delay(Math.min(holdMs, 500));
      const spawnAt = Date.now();
      await ctx.gateway.start();
      window.to = Date.now();
      return finish(kind, undefined, startedAt, window.to, all, ctx, { 'start to ready ms': window.to - spawnAt, 'down for ms': window.to - killedAt });
    }
  }
}

/**
 * The listener's connection is terminated and, while it reconnects, the target is suspended with plain
 * SQL (as another instance or an operator would): only the change feed (its replay after the reconnect)
 * can tell this gateway before TENANT_CACHE_TTL. Then resumed the same way.
 */
async function listenerKill(cycle: number, ctx: FaultContext, startedAt: number): Promise<FaultResult> {
  const target = targetFor(ctx.tenants, cycle, 2);
  const old = await ctx.db.sql<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE application_name = 'tenantgate-listener'`;
  const oldPids = new Set(old.map((r) => r.pid));
  ctx.connections.exclude(oldPids);
  await ctx.db.sql`SELECT pg_terminate_backend(pid) FROM unnest(${[...oldPids]}::int[]) AS pid`;
  const killedAt = Date.now();
  const window: SuspensionWindow = { tenant: target.idx, via: 'sql', from: Date.now(), to: undefined, strictFrom: undefined, strictTo: undefined };
  ctx.ledger.suspensions.push(window);
  await ctx.db.sql`UPDATE tenants SET status = 'suspended', updated_at = now() WHERE id = ${target.id}`;
  const suspendedAt = Date.now();
  const notes: Record<string, number | string> = { 'listeners terminated': oldPids.size };

  const listenerBack = await waitUntil(async () => {
    const rows = await ctx.db.sql<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE application_name = 'tenantgate-listener'`.catch(() => []);
    return rows.some((r) => !oldPids.has(r.pid));
  }, RECOVERY_LIMIT_MS);
  if (listenerBack) notes['listener back after ms'] = Date.now() - killedAt;
  else ctx.ledger.violate('recovery', `listener-kill: no new listener connection within ${RECOVERY_LIMIT_MS / 1000} s`);

  const seen = await waitUntil(
    () => ctx.ledger.failures.some((f) => f.tenant === target.idx && f.label === '403 tenant_suspended' && f.start >= suspendedAt),
    FEED_LIMIT_MS,
  );
  if (seen) {
    const first = ctx.ledger.failures.find((f) => f.tenant === target.idx && f.label === '403 tenant_suspended' && f.start >= suspendedAt);
    notes['SQL suspension applied after ms'] = (first?.end ?? Date.now()) - suspendedAt;
  } else {
    ctx.ledger.violate(
      'recovery',
      `listener-kill: tenant ${target.idx} suspended with SQL was still served ${FEED_LIMIT_MS / 1000} s later (change feed not back)`,
    );
  }
  await ctx.db.sql`UPDATE tenants SET status = 'active', updated_at = now() WHERE id = ${target.id}`;
  const resumedAt = Date.now();
  window.to = resumedAt;
  const result = await finish('listener-kill', target.idx, startedAt, resumedAt, [target.idx], ctx, notes);
  const back = result.recoveryMs.hot ?? result.recoveryMs.cold;
  if (back !== undefined) notes['SQL resume applied after ms'] = back;
  if (back !== undefined && back > FEED_LIMIT_MS) {
    ctx.ledger.violate('recovery', `listener-kill: tenant ${target.idx} resumed with SQL was refused for ${back} ms (change feed too slow)`);
  }
  return result;
}

/** Watches the affected tenants from `endedAt` until each is served again, within RECOVERY_LIMIT_MS. */
async function finish(
  kind: FaultKind,
  target: number | undefined,
  startedAt: number,
  endedAt: number,
  affected: readonly number[],
  ctx: FaultContext,
  notes: Record<string, number | string>,
): Promise<FaultResult> {
  const watch = ctx.ledger.watch(endedAt, affected);
  const ok = await waitUntil(() => watch.recovered.size === watch.tenants.size, RECOVERY_LIMIT_MS - (Date.now() - endedAt), 20);
  ctx.ledger.unwatch(watch);
  if (!ok) {
    const missing = affected.filter((t) => !watch.recovered.has(t));
    ctx.ledger.violate('recovery', `${kind}: tenants ${missing.join(', ')} not served within ${RECOVERY_LIMIT_MS / 1000} s of the fault's end`);
  }
  const recoveryMs: { hot?: number; cold?: number } = {};
  for (const [tenant, ms] of watch.recovered) {
    const klass = ctx.tenants[tenant]?.klass ?? 'cold';
    recoveryMs[klass] = Math.max(recoveryMs[klass] ?? 0, ms);
  }
  const recoveredAt = ok ? endedAt + Math.max(0, ...watch.recovered.values()) : undefined;
  return { kind, target, startedAt, endedAt, recoveredAt, recoveryMs, notes };
}
