// Admission to a pool's connections: a counting semaphore whose waiters queue per tenant and are served
// round-robin across tenants, so one tenant flooding a pool cannot push everyone else's requests back.
// Waiting is bounded three ways: a global queue length, a per-tenant share of it, and a timeout; each
// ends in 503 + Retry-After, never a hang.
import { Unavailable } from '../errors.js';

export interface QueueLimits {
  /** Requests that may wait at once, over every pool. */
  readonly maxWaiting: number;
  /** Requests one tenant may have waiting at once. */
  readonly maxWaitingPerTenant: number;
  readonly timeoutMs: number;
}

/** The queue accounting shared by all limiters, so QUEUE_MAX bounds the gateway as a whole. */
export interface WaitQueue {
  readonly limits: QueueLimits;
  waiting(): number;
  /** Called with each wait's duration in ms (served or timed out), for metrics. */
  onWaitEnd?: (ms: number, outcome: 'served' | 'timeout') => void;
}

interface QueueState extends WaitQueue {
  total: number;
  readonly perTenant: Map<string, number>;
}

export function createWaitQueue(limits: QueueLimits): WaitQueue {
  const state: QueueState = { limits, total: 0, perTenant: new Map(), waiting: () => state.total };
  return state;
}

export interface Limiter {
  /** Takes a slot now if one is free for this tenant; otherwise false (then call wait). */
  tryAcquire(tenantId: string): boolean;
  /** Waits for a slot: resolves once it is held, rejects with Unavailable on a full queue or timeout. */
  wait(tenantId: string): Promise<void>;
  release(tenantId: string): void;
  inUse(): number;
  readonly slots: number;
}

interface Waiter {
  readonly tenantId: string;
  readonly since: number;
  readonly resolve: () => void;
  timer: NodeJS.Timeout | undefined;
}

export interface LimiterOptions {
  readonly slots: number;
  /** Slots one tenant may hold at once (POOL_MAX). */
  readonly perTenantSlots: number;
  readonly queue: WaitQueue;
}

export function createLimiter(options: LimiterOptions): Limiter {
  const queue = options.queue as QueueState;
  const { slots, perTenantSlots } = options;
  let inUse = 0;
  const heldBy = new Map<string, number>();
  // Insertion order is the round-robin order; a tenant that is served moves to the back.
  const waiters = new Map<string, Waiter[]>();

  const take = (tenantId: string): void => {
    inUse++;
    heldBy.set(tenantId, (heldBy.get(tenantId) ?? 0) + 1);
  };
  const canTake = (tenantId: string): boolean => inUse < slots && (heldBy.get(tenantId) ?? 0) < perTenantSlots;

  const forget = (waiter: Waiter): void => {
    const list = waiters.get(waiter.tenantId);
    if (list) {
      const i = list.indexOf(waiter);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) waiters.delete(waiter.tenantId);
    }
    queue.total--;
    const mine = (queue.perTenant.get(waiter.tenantId) ?? 1) - 1;
    if (mine === 0) queue.perTenant.delete(waiter.tenantId);
    else queue.perTenant.set(waiter.tenantId, mine);
    clearTimeout(waiter.timer);
  };

  const serveNext = (): void => {
    for (const [tenantId, list] of waiters) {
      if (inUse >= slots) return;
      if ((heldBy.get(tenantId) ?? 0) >= perTenantSlots) continue;
      const waiter = list[0] as Waiter;
      forget(waiter);
      const rest = waiters.get(tenantId);
      if (rest) {
        waiters.delete(tenantId);
        waiters.set(tenantId, rest);
      }
      take(tenantId);
      queue.onWaitEnd?.(Date.now() - waiter.since, 'served');
      waiter.resolve();
    }
  };

  return {
    slots,
    inUse: () => inUse,
    tryAcquire(tenantId) {
      // release() hands a freed slot to an eligible waiter at once, so a slot still free here is one no
      // waiter may take (they are at their tenant's cap): a newcomer does not overtake anyone.
      if (!canTake(tenantId)) return false;
      take(tenantId);
      return true;
    },
    wait(tenantId) {
      const { limits } = queue;
      if (queue.total >= limits.maxWaiting) {
        return Promise.reject(new Unavailable('queue_full', 'the gateway is at capacity; retry shortly', 1));
      }
      if ((queue.perTenant.get(tenantId) ?? 0) >= limits.maxWaitingPerTenant) {
        return Promise.reject(new Unavailable('tenant_queue_full', 'this tenant has too many requests waiting; retry shortly', 1));
      }
      return new Promise<void>((resolve, reject) => {
        const waiter: Waiter = { tenantId, since: Date.now(), resolve, timer: undefined };
        waiter.timer = setTimeout(() => {
          forget(waiter);
          queue.onWaitEnd?.(Date.now() - waiter.since, 'timeout');
          reject(
            new Unavailable(
              'queue_timeout',
              `no database connection became free within ${limits.timeoutMs} ms`,
              Math.max(1, Math.ceil(limits.timeoutMs / 1000)),
            ),
          );
        }, limits.timeoutMs);
        const list = waiters.get(tenantId);
        if (list) list.push(waiter);
        else waiters.set(tenantId, [waiter]);
        queue.total++;
        queue.perTenant.set(tenantId, (queue.perTenant.get(tenantId) ?? 0) + 1);
      });
    },
    release(tenantId) {
      const held = (heldBy.get(tenantId) ?? 0) - 1;
      if (held < 0) throw new Error(`release without acquire for tenant ${tenantId}`);
      if (held === 0) heldBy.delete(tenantId);
      else heldBy.set(tenantId, held);
      inUse--;
      serveNext();
    },
  };
}
