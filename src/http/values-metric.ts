// A metric whose samples are read from figures kept elsewhere, at scrape time. prom-client's Counter
// keeps its own label map (hashing and validating labels on every inc()); for series that come and go
// with the state they mirror, reading that state when the registry renders is simpler and costs the
// request path nothing. `read` may be async (a scrape waits for it: keep it bounded).
import type { Metric, Registry } from 'prom-client';

export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export function registerValues(registry: Registry, name: string, help: string, type: 'counter' | 'gauge', read: () => Sample[] | Promise<Sample[]>): void {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: (await read()).map((s) => ({ labels: { ...s.labels }, value: s.value })) }),
    // The figures belong to their owner; a registry reset has nothing of its own to clear.
    reset() {},
  };
  // The registry needs only name, help, type, get() and reset(); its types list prom-client's classes.
  registry.registerMetric(metric as unknown as Metric);
}
