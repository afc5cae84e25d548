// Moving a tenant to another server through the admin API and the CLI: checks the request against the
// catalog, runs the move (src/move/move-tenant.ts) with the catalog's placement switch as its cutover,
// and keeps the state of the moves this instance ran, for GET /v1/admin/tenants/{id}/move. The catalog
// (the tenant's server) and the source's moves table are what every instance can see; this state is
// this instance's account of how its moves went.
import postgres, { type Sql } from 'postgres';
import { connectionOptions } from '../db/connection-options.js';
import type { KeyRing } from '../crypto/key-ring.js';
import { detectCitus } from '../citus/coordinator.js';
import { AppError, Conflict, NotFound, UnprocessableEntity } from '../errors.js';
import type { IsolationModels } from '../isolation/models.js';
import { moveTenant, type MoveReport, type MoveStep } from '../move/move-tenant.js';
import { placementOf, type Placement, type PlacementRow } from '../tenants/placement.js';
import type { IsolationModel } from '../isolation/model.js';
import { MAIN_SERVER } from './catalog.js';
import type { ServerConnections } from './connections.js';

export interface MoveStatus {
  readonly kind: 'server';
  readonly tenant_id: string;
  readonly from: string;
  readonly to: string;
  readonly state: 'running' | 'done' | 'failed';
  readonly step: MoveStep | null;
  readonly started_at: Date;
  readonly finished_at: Date | null;
  readonly report: MoveReport | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}

export interface TenantMoves {
  /** Checks the move and starts it in the background; its status is returned at once. */
  start(tenantId: string, server: string): Promise<MoveStatus>;
  /** Runs the move to the end (the CLI). */
  run(tenantId: string, server: string, onStep?: (step: MoveStep) => void): Promise<MoveReport>;
  /** This instance's latest move of the tenant, if it ran one. */
  status(tenantId: string): MoveStatus | undefined;
  /** Waits for the moves under way (shutdown). */
  settle(): Promise<void>;
}

export interface TenantMovesOptions {
  /** CONNECT_TIMEOUT, for the move's own connections. */
  readonly connectTimeoutSeconds: number;
  /** Between the switch and removing the old copy: every instance has followed by then. */
  readonly graceMs: number;
  /** Told when the old copy could not be removed after a switch (it stays fenced); for logs. */
  readonly onCleanupError?: (tenantId: string, err: unknown) => void;
  /** Told when a background move failed (for logs). */
  readonly onFailed?: (tenantId: string, err: unknown) => void;
}

interface Prepared {
  readonly row: MovingRow;
  readonly placement: Placement;
  readonly model: IsolationModel;
  readonly from: string;
}

interface MovingRow extends PlacementRow {
  readonly db_user: string;
  readonly db_password_encrypted: string;
}

export function createTenantMoves(catalog: Sql, keys: KeyRing, servers: ServerConnections, models: IsolationModels, options: TenantMovesOptions): TenantMoves {
  const latest = new Map<string, MoveStatus>();
  const running = new Map<string, Promise<unknown>>();

  const prepare = async (tenantId: string, to: string): Promise<Prepared> => {
    const [row] = await catalog<MovingRow[]>`
      SELECT db_user, db_password_encrypted, server, model, data_name, data_version FROM tenants WHERE id = ${tenantId}`;
    if (!row) throw new NotFound('tenant_not_found', `no tenant with id ${tenantId}`);
    if (to !== MAIN_SERVER) {
      const [known] = await catalog`SELECT 1 FROM servers WHERE name = ${to}`;
      if (!known) throw new UnprocessableEntity('unknown_server', `no server named "${to}" (field server); see GET /v1/admin/servers`);
    }
    if (row.server === to) throw new Conflict('move_same_server', `the tenant already lives on server "${to}"`);
    if (running.has(tenantId)) throw new Conflict('tenant_move_in_progress', `tenant ${tenantId} is already being moved`);
    const placement = placementOf(row);
    const model = models.get(placement.model);
    if (!model || model.ownDatabase !== undefined) {
      throw new Conflict('move_model_unsupported', 'only row-model (rls) and schema-model tenants can be moved');
    }
    const from = row.server;
    // Citus keeps a tenant's rows in shards on its workers, which this move's triggers and copy do not
    // reach; Citus moves them itself (src/citus/tenant-operations.ts). The target is checked by the
    // move, once it has its connection: a target that is down fails the move, not the request.
    if ((await detectCitus(await servers.admin(from))) !== undefined) throw citusServerMove(from);
    // Both listed (a server removed meanwhile is a 404 now, not a failed move); the move's own
    // connections are opened when it runs, and a server that is down fails it there.
    await Promise.all([servers.record(from), servers.record(to)]);
    return { row, placement, model, from };
  };

  /**
   * Owner connections of the move's own: a move holds a session for its lock and transactions for
   * minutes, which must never starve the catalog's small pool (tenant look-ups) or a server's owner
   * connections (provisioning), nor wait behind them.
   */
  const connect = async (server: string): Promise<Sql> =>
    postgres(
      (await servers.record(server)).url,
      connectionOptions({ max: 4, applicationName: 'tenantgate-move', connectTimeoutSeconds: options.connectTimeoutSeconds, statementTimeoutMs: 60_000 }),
    );

  const execute = async (tenantId: string, to: string, prepared: Prepared, onStep: (step: MoveStep) => void): Promise<MoveReport> => {
    const { row, placement, model, from } = prepared;
    const [source, target] = await Promise.all([connect(from), connect(to)]);
    try {
      if ((await detectCitus(target)) !== undefined) throw citusServerMove(to);
      return await moveTenant({
        tenant: { id: tenantId, role: row.db_user, password: keys.open(row.db_password_encrypted), placement, model },
        source: { sql: source, hostsCatalog: from === MAIN_SERVER },
        target: { sql: target, hostsCatalog: to === MAIN_SERVER },
        graceMs: options.graceMs,
        onStep,
        onCleanupError: (err) => options.onCleanupError?.(tenantId, err),
        // The cutover: one catalog row. Only if the tenant is still where the move found it.
        switchPlacement: async () => {
          const switched = await catalog`UPDATE tenants SET server = ${to}, updated_at = now() WHERE id = ${tenantId} AND server = ${from}`;
          if (switched.count !== 1) throw new Conflict('tenant_changed_during_move', 'the tenant was moved, changed or deleted elsewhere during the move');
        },
      });
    } finally {
      await Promise.all([source.end({ timeout: 5 }), target.end({ timeout: 5 })]);
    }
  };

  const errorOf = (err: unknown): { code: string; message: string } =>
    err instanceof AppError
      ? { code: err.code, message: err.message }
      : { code: 'tenant_move_failed', message: 'the move failed; the tenant is served from where it was' };

  return {
    async start(tenantId, to) {
      // Checked now, so a bad request is answered as such and not as a failed move.
      const prepared = await prepare(tenantId, to);
      if (running.has(tenantId)) throw new Conflict('tenant_move_in_progress', `tenant ${tenantId} is already being moved`);
      const { from } = prepared;
      let status: MoveStatus = {
        kind: 'server',
        tenant_id: tenantId,
        from,
        to,
        state: 'running',
        step: null,
        started_at: new Date(),
        finished_at: null,
        report: null,
        error: null,
      };
      latest.set(tenantId, status);
      const job = execute(tenantId, to, prepared, (step) => {
        status = { ...status, step };
        latest.set(tenantId, status);
      }).then(
        (report) => latest.set(tenantId, { ...status, state: 'done', finished_at: new Date(), report }),
        (err: unknown) => {
          latest.set(tenantId, { ...status, state: 'failed', finished_at: new Date(), error: errorOf(err) });
          options.onFailed?.(tenantId, err);
        },
      );
      running.set(tenantId, job);
      void job.finally(() => running.delete(tenantId));
      return status;
    },
    async run(tenantId, to, onStep) {
      return execute(tenantId, to, await prepare(tenantId, to), onStep ?? (() => undefined));
    },
    status: (tenantId) => latest.get(tenantId),
    async settle() {
      await Promise.allSettled([...running.values()]);
    },
  };
}

function citusServerMove(server: string): Conflict {
  return new Conflict(
    'move_citus_unsupported',
    `server "${server}" is a Citus coordinator: Citus moves its tenants' shards itself; move the tenant between its workers with {"node": "host:port"}`,
  );
}
