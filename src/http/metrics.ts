// Prometheus metrics (prom-client) on a registry of the app's own (no global default registry): HTTP
// requests and latency by matched route, and the pool registry's figures read at scrape time, so the
// request path pays only for one counter increment and one histogram observation.
import type { MiddlewareHandler } from 'hono';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RegistryStats } from '../pool/registry.js';

export interface MetricsSource {
  stats(): RegistryStats;
  tenantsKnown(): number;
}

export interface GatewayMetrics {
  readonly registry: Registry;
  /** Counts and times every request; mount first. */
  readonly middleware: MiddlewareHandler;
  observeQueueWait(ms: number, outcome: 'served' | 'timeout'): void;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createMetrics(source: MetricsSource): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tenantgate_' });
  const registers = [registry];

  const requests = new Counter({
    name: 'tenantgate_http_requests_total',
    help: 'HTTP requests by method, matched route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'tenantgate_http_request_duration_seconds',
    help: 'HTTP request latency by method and matched route',
    labelNames: ['method', 'route'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const queueWait = new Histogram({
    name: 'tenantgate_queue_wait_seconds',
    help: 'Time requests waited for a database connection, by outcome (served or timeout)',
    labelNames: ['outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });

  const gauge = (name: string, help: string, labelNames: string[], read: (s: RegistryStats) => Record<string, number>): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      collect() {
        for (const [label, value] of Object.entries(read(source.stats()))) {
          if (labelNames[0] === undefined) this.set(value);
          else this.set({ [labelNames[0]]: label }, value);
        }
      },
    });
  };
  gauge('tenantgate_pools_open', 'Connection pools open, by kind', ['kind'], (s) => ({ dedicated: s.dedicatedOpen, shared: 1 }));
  gauge('tenantgate_connections_in_use', 'Connections running a request, by pool kind', ['kind'], (s) => ({
    dedicated: s.dedicatedInUse,
    shared: s.sharedInUse,
  }));
  gauge('tenantgate_connections_reserved', 'Connections reserved from the budget: catalog, shared and dedicated pools', [], (s) => ({ all: s.budgetReserved }));
  gauge('tenantgate_connections_budget', 'MAX_CONNECTIONS_TOTAL: connections the gateway may hold', [], (s) => ({ all: s.budgetTotal }));
  gauge('tenantgate_queue_length', 'Requests waiting for a connection', [], (s) => ({ all: s.waiting }));
  gauge('tenantgate_tenants_known', 'Tenants in the directory cache', [], () => ({ all: source.tenantsKnown() }));
  counterFromTotals(registers, 'tenantgate_pool_creations_total', 'Dedicated pools created', undefined, () => ({ all: source.stats().created }));
  counterFromTotals(registers, 'tenantgate_pool_evictions_total', 'Dedicated pools closed: LRU give-back, idle, rotation, deletion', undefined, () => ({
    all: source.stats().evicted,
  }));
  counterFromTotals(registers, 'tenantgate_requests_by_path_total', 'Tenant statements served, by path: dedicated own-role pool or shared pool', 'path', () => {
    const s = source.stats();
    return { dedicated: s.servedDedicated, shared: s.servedShared };
  });

  return {
    registry,
    middleware: async (c, next) => {
      const started = performance.now();
      await next();
      // Unmatched paths share one label value: a scanner must not grow the label set.
      const route = c.res.status === 404 && c.req.routePath === '/*' ? 'unmatched' : c.req.routePath;
      requests.inc({ method: c.req.method, route, status: c.res.status });
      latency.observe({ method: c.req.method, route }, (performance.now() - started) / 1000);
    },
    observeQueueWait: (ms, outcome) => queueWait.observe({ outcome }, ms / 1000),
  };
}

/** A counter mirroring running totals kept elsewhere: each scrape adds what changed since the last. */
function counterFromTotals(
  registers: Registry[],
  name: string,
  help: string,
  labelName: string | undefined,
  read: () => Record<string, number>,
): void {
  const last = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames: labelName === undefined ? [] : [labelName],
    registers,
    collect() {
      for (const [label, total] of Object.entries(read())) {
        const delta = total - (last.get(label) ?? 0);
        last.set(label, total);
        if (delta <= 0) continue;
        if (labelName === undefined) this.inc(delta);
        else this.inc({ [labelName]: label }, delta);
      }
    },
  });
}
