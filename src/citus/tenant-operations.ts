// Tenant operations on a Citus cluster, for the admin API and the CLI: isolate a row-model tenant to a
// shard of its own, and move a tenant (its shard, or its distributed schema) to another worker while it
// is served. The tenant stays on the same server (the coordinator), so the catalog does not change:
// Citus switches its own metadata at the end of the move, and the coordinator routes the next statement
// to the new worker. This instance keeps its account of the moves it ran, for GET …/move.
import postgres, { type Sql } from 'postgres';
import { connectionOptions } from '../db/connection-options.js';
import { isConnectionFailure } from '../db/errors.js';
import { AppError, Conflict, NotFound, UnprocessableEntity } from '../errors.js';
import type { ServerConnections } from '../servers/connections.js';
import { placementOf, type Placement } from '../tenants/placement.js';
import { detectCitus } from './coordinator.js';
import { formatNode, sameNode, type NodeAddress } from './node-address.js';
import { isolateRlsTenant, isShardNode, moveSchema, moveShard, rlsTenantShard, schemaTenantShard, type TenantShard } from './tenant-shards.js';

export type NodeMoveStep = 'isolate' | 'move';

export interface NodeMoveReport {
  /** The users shard that moved (for a row-model tenant, its own after isolation). */
  readonly shard_id: number;
  /** A row-model tenant that shared its shard was isolated first (only its own rows move). */
  readonly isolated_first: boolean;
  readonly isolateMs: number | null;
  readonly moveMs: number;
  readonly totalMs: number;
}

export interface NodeMoveStatus {
  readonly kind: 'node';
  readonly tenant_id: string;
  readonly server: string;
  /** Nodes as host:port. */
  readonly from: string;
  readonly to: string;
  readonly state: 'running' | 'done' | 'failed';
  readonly step: NodeMoveStep | null;
  readonly started_at: Date;
  readonly finished_at: Date | null;
  readonly report: NodeMoveReport | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}

export interface Isolation {
  readonly id: string;
  readonly server: string;
  readonly model: 'rls' | 'schema';
  readonly node: string;
  readonly shard_id: number;
  /** A schema tenant's distributed schema; null for a row-model tenant. */
  readonly schema: string | null;
  readonly isolated: true;
  /** Whether this call split it off (false: it was alone in its shard, or is a schema tenant). */
  readonly changed: boolean;
}

export interface CitusTenantOps {
  isolate(tenantId: string): Promise<Isolation>;
  /** Checks the move and starts it in the background; its status is returned at once. */
  start(tenantId: string, node: NodeAddress): Promise<NodeMoveStatus>;
  /** Runs the move to the end (the CLI). */
  run(tenantId: string, node: NodeAddress, onStep?: (step: NodeMoveStep) => void): Promise<NodeMoveReport>;
  status(tenantId: string): NodeMoveStatus | undefined;
  settle(): Promise<void>;
}

export interface CitusTenantOpsOptions {
  readonly connectTimeoutSeconds: number;
  /** Told when a background move failed (for logs). */
  readonly onFailed?: (tenantId: string, err: unknown) => void;
}

interface Located {
  readonly server: string;
  readonly placement: Placement & { readonly model: 'rls' | 'schema' };
  readonly shard: TenantShard;
}

export function createCitusTenantOps(catalog: Sql, servers: ServerConnections, options: CitusTenantOpsOptions): CitusTenantOps {
  const latest = new Map<string, NodeMoveStatus>();
  const running = new Map<string, Promise<unknown>>();

  const locate = async (tenantId: string): Promise<Located> => {
    const [row] = await catalog<{ server: string; model: string; data_name: string | null; data_version: number | null }[]>`
      SELECT server, model, data_name, data_version FROM tenants WHERE id = ${tenantId}`;
    if (!row) throw new NotFound('tenant_not_found', `no tenant with id ${tenantId}`);
    const placement = placementOf(row);
    const admin = await servers.admin(row.server);
    if ((await detectCitus(admin)) === undefined) {
      throw new Conflict('not_on_citus', `tenant ${tenantId} lives on server "${row.server}", which is not a Citus coordinator`);
    }
    if (placement.model === 'rls') return { server: row.server, placement: { ...placement, model: 'rls' }, shard: await rlsTenantShard(admin, tenantId) };
    if (placement.model === 'schema' && placement.dataName !== null) {
      const shard = await schemaTenantShard(admin, placement.dataName);
      if (shard === undefined) throw new Conflict('not_on_citus', `tenant ${tenantId}'s schema is not a distributed schema of server "${row.server}"`);
      return { server: row.server, placement: { ...placement, model: 'schema' }, shard };
    }
    throw new Conflict('move_model_unsupported', 'on Citus, only row-model (rls) and schema-model tenants can be isolated and moved');
  };

  /**
   * A connection of the operation's own, without a statement timeout: Citus copies the shard in this
   * statement, which takes as long as the data needs, and must not hold the server's small owner pool.
   */
  const connect = async (server: string): Promise<Sql> =>
    postgres(
      (await servers.record(server)).url,
      connectionOptions({ max: 1, applicationName: 'tenantgate-citus-move', connectTimeoutSeconds: options.connectTimeoutSeconds, statementTimeoutMs: 0 }),
    );

  const withConnection = async <T>(server: string, work: (sql: Sql) => Promise<T>): Promise<T> => {
    const sql = await connect(server);
    try {
      return await work(sql);
    } catch (err) {
      throw citusRefusal(err);
    } finally {
      await sql.end({ timeout: 5 });
    }
  };

  const claim = (tenantId: string, job: Promise<unknown>): void => {
    running.set(tenantId, job);
    void job.then(
      () => running.delete(tenantId),
      () => running.delete(tenantId),
    );
  };

  const refuseIfBusy = (tenantId: string): void => {
    if (running.has(tenantId)) throw new Conflict('tenant_move_in_progress', `tenant ${tenantId} is already being moved or isolated`);
  };

  const isolate = async (tenantId: string): Promise<Isolation> => {
    const { server, placement, shard } = await locate(tenantId);
    const answer = (s: TenantShard, changed: boolean): Isolation => ({
      id: tenantId,
      server,
      model: placement.model,
      node: formatNode(s.node),
      shard_id: s.shardId,
      schema: s.schema,
      isolated: true,
      changed,
    });
    if (shard.isolated) return answer(shard, false);
    refuseIfBusy(tenantId);
    const job = withConnection(server, async (sql) => {
      await isolateRlsTenant(sql, tenantId);
      return rlsTenantShard(sql, tenantId);
    });
    claim(tenantId, job);
    return answer(await job, true);
  };

  const prepare = async (tenantId: string, to: NodeAddress): Promise<Located> => {
    const located = await locate(tenantId);
    if (!(await isShardNode(await servers.admin(located.server), to))) {
      throw new UnprocessableEntity('unknown_node', `no worker ${formatNode(to)} that may hold shards in server "${located.server}"'s cluster (field node)`);
    }
    if (sameNode(located.shard.node, to)) throw new Conflict('move_same_node', `the tenant already lives on node ${formatNode(to)}`);
    refuseIfBusy(tenantId);
    return located;
  };

  const execute = async (tenantId: string, to: NodeAddress, located: Located, onStep: (step: NodeMoveStep) => void): Promise<NodeMoveReport> => {
    const started = Date.now();
    const { server, shard } = located;
    return withConnection(server, async (sql) => {
      let moving = shard;
      let isolateMs: number | null = null;
      if (!shard.isolated) {
        // Only its own rows move: the others of its shard stay where they are.
        onStep('isolate');
        await isolateRlsTenant(sql, tenantId);
        moving = await rlsTenantShard(sql, tenantId);
        isolateMs = Date.now() - started;
      }
      onStep('move');
      const moveStarted = Date.now();
      if (moving.schema === null) await moveShard(sql, moving.shardId, moving.node, to);
      else await moveSchema(sql, moving.schema, to);
      const done = Date.now();
      return { shard_id: moving.shardId, isolated_first: !shard.isolated, isolateMs, moveMs: done - moveStarted, totalMs: done - started };
    });
  };

  return {
    isolate,
    async start(tenantId, to) {
      const located = await prepare(tenantId, to);
      let status: NodeMoveStatus = {
        kind: 'node',
        tenant_id: tenantId,
        server: located.server,
        from: formatNode(located.shard.node),
        to: formatNode(to),
        state: 'running',
        step: null,
        started_at: new Date(),
        finished_at: null,
        report: null,
        error: null,
      };
      latest.set(tenantId, status);
      const job = execute(tenantId, to, located, (step) => {
        status = { ...status, step };
        latest.set(tenantId, status);
      }).then(
        (report) => latest.set(tenantId, { ...status, state: 'done', finished_at: new Date(), report }),
        (err: unknown) => {
          latest.set(tenantId, { ...status, state: 'failed', finished_at: new Date(), error: errorOf(err) });
          options.onFailed?.(tenantId, err);
        },
      );
      claim(tenantId, job);
      return status;
    },
    async run(tenantId, to, onStep) {
      const located = await prepare(tenantId, to);
      const job = execute(tenantId, to, located, onStep ?? (() => undefined));
      claim(tenantId, job);
      return job;
    },
    status: (tenantId) => latest.get(tenantId),
    async settle() {
      await Promise.allSettled([...running.values()]);
    },
  };
}

/**
 * Citus' refusal of an operation (a lock held by another move, a node gone from the metadata) as a
 * 409 saying what Citus said; a lost connection stays what it is (503 by the error handler).
 */
function citusRefusal(err: unknown): unknown {
  if (err instanceof AppError || isConnectionFailure(err)) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && code !== '57014') {
    const refused = new Conflict('citus_refused', `Citus refused the operation: ${(err as Error).message}`);
    refused.causeCode = code;
    return refused;
  }
  return err;
}

function errorOf(err: unknown): { code: string; message: string } {
  return err instanceof AppError
    ? { code: err.code, message: err.message }
    : { code: 'tenant_move_failed', message: 'the move failed; the tenant is served from where it was' };
}
