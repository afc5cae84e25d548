// A Prometheus histogram for the request path. prom-client's Histogram hashes and validates its label
// object on every observation, even through a labels() child; with two observations per request
// (latency, queue wait) that was ~1.5 % of the gateway's CPU. Here a labelled series is resolved once
// and kept by the caller, and observing is a bucket search and three additions. The histogram lives in
// a prom-client Registry and renders exactly as prom-client's own (test/unit/histogram.test.ts).
import type { Metric, Registry } from 'prom-client';

export interface HistogramSeries {
  observe(value: number): void;
}

export interface LabelledHistogram<L extends string> {
  /** The series for these label values, created on first use. Keep it: the look-up is the slow part. */
  series(labels: Readonly<Record<L, string>>): HistogramSeries;
  /** Drops the series for these label values from the output; a later series() starts it from zero. */
  remove(labels: Readonly<Record<L, string>>): void;
}

export interface HistogramConfig<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  /** Upper bounds, ascending; +Inf is implied. */
  readonly buckets: readonly number[];
  /**
   * Render series not observed yet (all zeros). For series that come and go: one that appears at zero
   * lets rate() count its first observation, which it would miss if the series appeared with it.
   */
  readonly renderEmpty?: boolean;
}

interface Series extends HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: number[];
  sum: number;
  count: number;
}

export function registerHistogram<L extends string>(registry: Registry, config: HistogramConfig<L>): LabelledHistogram<L> {
  const bounds = [...config.buckets];
  if (bounds.some((bound, i) => !Number.isFinite(bound) || (i > 0 && bound <= (bounds[i - 1] as number)))) {
    throw new Error(`${config.name}: buckets must be finite and strictly ascending`);
  }
  const all = new Map<string, Series>();

  const create = (labels: Readonly<Record<string, string>>): Series => {
    const series: Series = {
      labels,
      counts: new Array<number>(bounds.length + 1).fill(0),
      sum: 0,
      count: 0,
      observe(value) {
        let i = 0;
        while (i < bounds.length && value > (bounds[i] as number)) i++;
        series.counts[i] = (series.counts[i] as number) + 1;
        series.sum += value;
        series.count++;
      },
    };
    return series;
  };

  // The shape prom-client's Histogram.get() has, which the registry renders (bucket lines carry `le`
  // first, then the series' labels). Series never observed (or reset) are left out, as prom-client does.
  const values = (): { labels: Record<string, string | number>; value: number; metricName: string }[] => {
    const out: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const series of all.values()) {
      if (series.count === 0 && config.renderEmpty !== true) continue;
      let cumulative = 0;
      bounds.forEach((bound, i) => {
        cumulative += series.counts[i] as number;
        out.push({ labels: { le: bound, ...series.labels }, value: cumulative, metricName: `${config.name}_bucket` });
      });
      out.push({ labels: { le: '+Inf', ...series.labels }, value: series.count, metricName: `${config.name}_bucket` });
      out.push({ labels: { ...series.labels }, value: series.sum, metricName: `${config.name}_sum` });
      out.push({ labels: { ...series.labels }, value: series.count, metricName: `${config.name}_count` });
    }
    return out;
  };

  const metric = {
    name: config.name,
    help: config.help,
    type: 'histogram',
    aggregator: 'sum',
    get: async () => ({ name: config.name, help: config.help, type: 'histogram', values: values(), aggregator: 'sum' }),
    reset() {
      for (const series of all.values()) {
        series.counts.fill(0);
        series.sum = 0;
        series.count = 0;
      }
    },
  };
  // The registry needs only name, help, type, get() and reset(); its types list prom-client's classes.
  registry.registerMetric(metric as unknown as Metric);

  const keyOf = (labels: Readonly<Record<L, string>>): string => config.labelNames.map((name) => labels[name]).join('\u0000');
  return {
    series(labels) {
      const key = keyOf(labels);
      let series = all.get(key);
      if (series === undefined) {
        const own: Record<string, string> = {};
        for (const name of config.labelNames) own[name] = labels[name];
        all.set(key, (series = create(own)));
      }
      return series;
    },
    remove(labels) {
      all.delete(keyOf(labels));
    },
  };
}
