// Per-tenant metrics with a bounded label set: the busiest METRICS_TENANT_SERIES tenants by request
// rate have series of their own, labelled tenant="<tenant id>", everyone else shares tenant="other"
// (which tenants, and when that changes: ./top-tenants.ts). Labelled by id, not name: a name can change
// (it is an ordinary column; a rename is an update on the change feed) and would split one tenant's
// history, while the id is what logs, the admin API and x-tenant-id already use, and is at hand on the
// request path without a look-up.
import type { Registry } from 'prom-client';
import { registerHistogram, type HistogramSeries } from './histogram.js';
import { createTopTenants } from './top-tenants.js';
import { registerValues, type Sample } from './values-metric.js';

export type StatementPath = 'shared' | 'dedicated';

export interface TenantMetrics {
  /** One answered request of a tenant that exists (suspended included). */
  observe(tenantId: string, status: number, errorCode: string | undefined, seconds: number): void;
  /** One statement run for the tenant, on its dedicated pool or the shared one. */
  observeStatement(tenantId: string, path: StatementPath): void;
  /** Called after each scrape: series first scraped now start counting, and slots change hands if due. */
  scraped(): void;
}

export interface TenantMetricsOptions {
  /** Tenants with series of their own (N); the rest are "other". */
  readonly series: number;
  readonly now: () => number;
  readonly buckets: readonly number[];
}

/** One tenant's figures (or other's) since its series appeared. */
interface Tally {
  readonly labels: { readonly tenant: string };
  readonly latency: HistogramSeries;
  requests: number;
  serverErrors: number;
  rateLimited: number;
  suspended: number;
  queueRejections: number;
  shared: number;
  dedicated: number;
}

export const OTHER_TENANTS = 'other';

const QUEUE_REJECTIONS = new Set(['queue_full', 'tenant_queue_full', 'queue_timeout']);

export function registerTenantMetrics(registry: Registry, options: TenantMetricsOptions): TenantMetrics {
  const latency = registerHistogram(registry, {
    name: 'tenantgate_tenant_request_duration_seconds',
    help: 'Request latency of the busiest tenants by id, the rest as tenant="other"',
    labelNames: ['tenant'],
    buckets: options.buckets,
    renderEmpty: true,
  });
  const tallyFor = (tenant: string): Tally => ({
    labels: { tenant },
    latency: latency.series({ tenant }),
    requests: 0,
    serverErrors: 0,
    rateLimited: 0,
    suspended: 0,
    queueRejections: 0,
    shared: 0,
    dedicated: 0,
  });
  const other = tallyFor(OTHER_TENANTS);
  const top = createTopTenants<Tally>({
    slots: options.series,
    open: tallyFor,
    other,
    close: (tenant) => latency.remove({ tenant }),
    now: options.now,
  });

  const tallies = function* (): Generator<Tally> {
    for (const [, tally] of top.holders()) yield tally;
    yield other;
  };
  const perTenant = (name: string, help: string, read: (t: Tally) => number): void => {
    registerValues(registry, name, help, 'counter', () => Array.from(tallies(), (t): Sample => ({ labels: t.labels, value: read(t) })));
  };
  perTenant('tenantgate_tenant_requests_total', 'Requests answered, by tenant (the busiest by id, the rest as "other")', (t) => t.requests);
  perTenant('tenantgate_tenant_server_errors_total', 'Requests answered 5xx, by tenant', (t) => t.serverErrors);
  perTenant('tenantgate_tenant_rate_limited_total', 'Requests refused 429 rate_limited, by tenant', (t) => t.rateLimited);
  perTenant('tenantgate_tenant_suspended_total', 'Requests refused 403 tenant_suspended, by tenant', (t) => t.suspended);
  perTenant(
    'tenantgate_tenant_queue_rejections_total',
    'Requests refused 503 for want of a connection (queue full or timed out), by tenant',
    (t) => t.queueRejections,
  );
  registerValues(registry, 'tenantgate_tenant_statements_total', 'Statements run, by tenant and path (dedicated pool or shared pool)', 'counter', () =>
    Array.from(tallies()).flatMap((t): Sample[] => [
      { labels: { tenant: t.labels.tenant, path: 'dedicated' }, value: t.dedicated },
      { labels: { tenant: t.labels.tenant, path: 'shared' }, value: t.shared },
    ]),
  );
  registerValues(registry, 'tenantgate_tenant_series_limit', 'METRICS_TENANT_SERIES: tenants that may have series of their own', 'gauge', () => [
    { labels: {}, value: options.series },
  ]);
  registerValues(
    registry,
    'tenantgate_tenant_series_changes_total',
    'Times a tenant was given series of its own (a free or a taken-over slot)',
    'counter',
    () => [{ labels: {}, value: top.changes() }],
  );

  return {
    observe(tenantId, status, errorCode, seconds) {
      const tally = top.hit(tenantId);
      tally.requests++;
      tally.latency.observe(seconds);
      if (status < 400) return;
      if (status >= 500) tally.serverErrors++;
      if (errorCode === undefined) return;
      if (errorCode === 'rate_limited') tally.rateLimited++;
      else if (errorCode === 'tenant_suspended') tally.suspended++;
      else if (QUEUE_REJECTIONS.has(errorCode)) tally.queueRejections++;
    },
    observeStatement(tenantId, path) {
      top.seriesOf(tenantId)[path]++;
    },
    scraped() {
      top.reveal();
      top.rank();
    },
  };
}
