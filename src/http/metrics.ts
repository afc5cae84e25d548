// Prometheus metrics (prom-client) on a registry of the app's own (no global default registry): HTTP
// requests and latency by matched route, and the pool registry's figures read at scrape time. The
// request path pays for a few Map look-ups and additions: prom-client hashes and validates a label
// object on every call, so request counts are kept here and handed to prom-client at scrape time, and
// the histograms resolve each labelled series once (./histogram.ts). Per-tenant series, bounded to the
// busiest tenants: ./tenant-metrics.ts.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { CitusNodeSample } from '../citus/node-samples.js';
import type { RegistryStats } from '../pool/registry.js';
import { registerHistogram, type HistogramSeries } from './histogram.js';
import { registerTenantMetrics, type StatementPath } from './tenant-metrics.js';
import { registerValues } from './values-metric.js';

export interface MetricsSource {
  stats(): RegistryStats;
  tenantsKnown(): number;
  /** True while the change feed's LISTEN connection to the catalog is up. */
  changeFeedUp(): boolean;
  /** The nodes of the Citus servers (none without Citus); bounded in time (src/citus/node-samples.ts). */
  citusNodes(): Promise<readonly CitusNodeSample[]>;
}

export interface MetricsOptions {
  /** METRICS_TENANT_SERIES: tenants with per-tenant series of their own; the rest are tenant="other". */
  readonly tenantSeries: number;
  /** The clock per-tenant series change hands on. */
  readonly now: () => number;
}

export interface GatewayMetrics {
  readonly registry: Registry;
  /**
   * Counts and times one answered request; `route` is the matched route pattern, `tenantId` the tenant
   * it named (if it got that far), `errorCode` the code of an error answer.
   */
  observeRequest(method: string, route: string, status: number, seconds: number, tenantId?: string, errorCode?: string): void;
  observeQueueWait(ms: number, outcome: 'served' | 'timeout'): void;
  /** One tenant statement run, on the tenant's dedicated pool or the shared one. */
  observeStatement(tenantId: string, path: StatementPath): void;
  /** The Prometheus text; then per-tenant series change hands if due (./top-tenants.ts says why after). */
  render(): Promise<string>;
}

/**
 * Error codes the shipped alerts (ops/prometheus/alerts.yml) watch: their series exist from the start
 * at zero, so an alert's rate() has data before the first such error, and its first error is counted.
 */
const WATCHED_ERROR_CODES = [
  'database_unavailable',
  'database_timeout',
  'queue_full',
  'tenant_queue_full',
  'queue_timeout',
  'rate_limited',
  'tenant_suspended',
];

/** One method and route: its latency series, and its request count by status. */
interface RouteSeries {
  readonly latency: HistogramSeries;
  readonly byStatus: Map<number, RequestCount>;
}

/** Requests answered since the last scrape, for one method, route and status. */
interface RequestCount {
  readonly labels: { readonly method: string; readonly route: string; readonly status: number };
  pending: number;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createMetrics(source: MetricsSource, options: MetricsOptions): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tenantgate_' });
  const registers = [registry];

  // route → method → series; methods are the few Node's parser accepts, routes the app's patterns.
  const routes = new Map<string, Map<string, RouteSeries>>();
  new Counter({
    name: 'tenantgate_http_requests_total',
    help: 'HTTP requests by method, matched route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
    collect() {
      for (const byMethod of routes.values()) {
        for (const series of byMethod.values()) {
          for (const count of series.byStatus.values()) {
            if (count.pending === 0) continue;
            this.inc(count.labels, count.pending);
            count.pending = 0;
          }
        }
      }
    },
  });
  const latency = registerHistogram(registry, {
    name: 'tenantgate_http_request_duration_seconds',
    help: 'HTTP request latency by method and matched route',
    labelNames: ['method', 'route'],
    buckets: LATENCY_BUCKETS,
  });
  const queueWait = registerHistogram(registry, {
    name: 'tenantgate_queue_wait_seconds',
    help: 'Time requests waited for a database connection, by outcome (served or timeout)',
    labelNames: ['outcome'],
    buckets: LATENCY_BUCKETS,
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
  // Passive: it needs no traffic and no probe to show the catalog unreachable (the listener reconnects
  // with back-off, so it is 0 for as long as the database does not take connections).
  gauge('tenantgate_change_feed_up', '1 while the tenant change feed (LISTEN on the catalog) is connected, else 0', [], () => ({
    all: source.changeFeedUp() ? 1 : 0,
  }));
  counterFromTotals(registers, 'tenantgate_pool_creations_total', 'Dedicated pools created', undefined, () => ({ all: source.stats().created }));
  counterFromTotals(registers, 'tenantgate_pool_evictions_total', 'Dedicated pools closed: LRU give-back, idle, rotation, deletion', undefined, () => ({
    all: source.stats().evicted,
  }));
  counterFromTotals(registers, 'tenantgate_requests_by_path_total', 'Tenant statements served, by path: dedicated own-role pool or shared pool', 'path', () => {
    const s = source.stats();
    return { dedicated: s.servedDedicated, shared: s.servedShared };
  });

  const seriesFor = (method: string, route: string): RouteSeries => {
    let byMethod = routes.get(route);
    if (byMethod === undefined) routes.set(route, (byMethod = new Map()));
    let series = byMethod.get(method);
    if (series === undefined) byMethod.set(method, (series = { latency: latency.series({ method, route }), byStatus: new Map() }));
    return series;
  };
  // Error answers by code: the codes are the gateway's own constants, a bounded set.
  const errors = new Map<string, number>(WATCHED_ERROR_CODES.map((code) => [code, 0]));
  registerValues(registry, 'tenantgate_http_errors_total', 'Error answers (4xx, 5xx) by error code', 'counter', () =>
    Array.from(errors, ([code, value]) => ({ labels: { code }, value })),
  );
  registerCitusGauges(registry, source);
  const tenants = registerTenantMetrics(registry, {
    series: options.tenantSeries,
    now: options.now,
    buckets: LATENCY_BUCKETS,
  });

  const waits = { served: queueWait.series({ outcome: 'served' }), timeout: queueWait.series({ outcome: 'timeout' }) };

  return {
    registry,
    observeRequest(method, matched, status, seconds, tenantId, errorCode) {
      // Unmatched paths share one label value: a scanner must not grow the label set.
      const route = status === 404 && matched === '/*' ? 'unmatched' : matched;
      const series = seriesFor(method, route);
      series.latency.observe(seconds);
      const count = series.byStatus.get(status);
      if (count !== undefined) count.pending++;
      else series.byStatus.set(status, { labels: { method, route, status }, pending: 1 });
      if (errorCode !== undefined) errors.set(errorCode, (errors.get(errorCode) ?? 0) + 1);
      // A tenant that does not exist is not a tenant's traffic: made-up ids must not win series.
      if (tenantId !== undefined && errorCode !== 'tenant_not_found') tenants.observe(tenantId, status, errorCode, seconds);
    },
    observeQueueWait: (ms, outcome) => waits[outcome].observe(ms / 1000),
    observeStatement: (tenantId, path) => tenants.observeStatement(tenantId, path),
    async render() {
      const text = await registry.metrics();
      tenants.scraped();
      return text;
    },
  };
}

/** Citus nodes by server and node (host:port); a node whose shards could not all be measured has no bytes. */
function registerCitusGauges(registry: Registry, source: MetricsSource): void {
  const gauge = (name: string, help: string, value: (n: CitusNodeSample) => number | null): void => {
    registerValues(registry, name, help, 'gauge', async () =>
      (await source.citusNodes()).flatMap((n) => {
        const v = value(n);
        return v === null ? [] : [{ labels: { server: n.server, node: n.node }, value: v }];
      }),
    );
  };
  gauge('tenantgate_citus_node_up', '1 when the Citus coordinator could connect to the node at the last check, else 0', (n) => (n.up ? 1 : 0));
  gauge('tenantgate_citus_shards', 'Shard placements on the Citus node', (n) => n.shards);
  gauge('tenantgate_citus_shard_bytes', 'Size of the shards on the Citus node (absent while some cannot be measured)', (n) => n.shardBytes);
  gauge('tenantgate_citus_worker_connections', 'Connections the Citus coordinator holds to the node, across its backends', (n) => n.workerConnections);
}

/** A counter mirroring running totals kept elsewhere: each scrape adds what changed since the last. */
function counterFromTotals(registers: Registry[], name: string, help: string, labelName: string | undefined, read: () => Record<string, number>): void {
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
