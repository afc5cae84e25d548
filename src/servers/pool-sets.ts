// Each server's pool set (src/pool/server-pools.ts), built on first use: a gateway instance opens
// connections only to servers its requests reach, and a server added by another instance is picked up
// by the first request for one of its tenants. A server that cannot be reached is not retried for a
// moment, so its tenants get a prompt 503 instead of each waiting on a connect.
import { Unavailable } from '../errors.js';
import type { ServerPools } from '../pool/server-pools.js';

export interface PoolSets {
  /** The server's pool set if it is built: no I/O, no promise (the request path's fast case). */
  get(name: string): ServerPools | undefined;
  /** The server's pool set, built now if needed (single flight). */
  open(name: string): Promise<ServerPools>;
  /** Every pool set built so far, by server name. */
  built(): ReadonlyMap<string, ServerPools>;
  /** Closes and forgets a server's pool set (the server was removed). */
  drop(name: string): Promise<void>;
  close(): Promise<void>;
}

export interface PoolSetsOptions {
  /** Builds a server's pool set; rejects when the server cannot be reached. */
  readonly build: (name: string) => Promise<ServerPools>;
  /** After a failed build, requests for the server get 503 for this long before it is tried again. */
  readonly retryAfterMs: number;
  readonly now: () => number;
  /** Told about each failed build (for logs). */
  readonly onBuildFailed?: (name: string, err: unknown) => void;
}

export function createPoolSets(options: PoolSetsOptions): PoolSets {
  const sets = new Map<string, ServerPools>();
  const building = new Map<string, Promise<ServerPools>>();
  const failedAt = new Map<string, number>();
  let closed = false;

  const open = (name: string): Promise<ServerPools> => {
    const ready = sets.get(name);
    if (ready) return Promise.resolve(ready);
    const pending = building.get(name);
    if (pending) return pending;
    const failed = failedAt.get(name);
    if (failed !== undefined && options.now() - failed < options.retryAfterMs) {
      return Promise.reject(new Unavailable('server_unavailable', `server "${name}" cannot be reached; retry shortly`, Math.ceil(options.retryAfterMs / 1000)));
    }
    const promise = options.build(name).then(
      async (pools) => {
        building.delete(name);
        if (closed) {
          await pools.close();
          throw new Unavailable('shutting_down', 'this instance is shutting down; retry on another');
        }
        failedAt.delete(name);
        sets.set(name, pools);
        return pools;
      },
      (err: unknown) => {
        building.delete(name);
        failedAt.set(name, options.now());
        options.onBuildFailed?.(name, err);
        if (err instanceof Unavailable || (err as { status?: unknown }).status === 404) throw err;
        throw new Unavailable('server_unavailable', `server "${name}" cannot be reached; retry shortly`, Math.ceil(options.retryAfterMs / 1000));
      },
    );
    building.set(name, promise);
    return promise;
  };

  return {
    get: (name) => sets.get(name),
    open,
    built: () => sets,
    async drop(name) {
      const pools = sets.get(name);
      sets.delete(name);
      failedAt.delete(name);
      await pools?.close();
    },
    async close() {
      closed = true;
      const all = [...sets.values()];
      sets.clear();
      await Promise.all(all.map((pools) => pools.close()));
    },
  };
}
