import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerHistogram } from '../../src/http/histogram.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const CONFIG = { name: 'x_duration_seconds', help: 'Latency by method and route', labelNames: ['method', 'route'] as const, buckets: BUCKETS };

/** The same observations through prom-client's Histogram and ours; both registries' text. */
async function renderBoth(observations: [string, string, number][]): Promise<[string, string]> {
  const theirs = new Registry();
  const reference = new Histogram({ ...CONFIG, labelNames: [...CONFIG.labelNames], registers: [theirs] });
  const ours = new Registry();
  const histogram = registerHistogram(ours, { ...CONFIG, labelNames: [...CONFIG.labelNames] });
  for (const [method, route, value] of observations) {
    reference.observe({ method, route }, value);
    histogram.series({ method, route }).observe(value);
  }
  return [await theirs.metrics(), await ours.metrics()];
}

describe('registerHistogram', () => {
  it('renders exactly as prom-client renders its own Histogram', async () => {
    const observations: [string, string, number][] = [
      ['GET', '/v1/internal/users', 0.0004],
      ['GET', '/v1/internal/users', 0.001],
      ['GET', '/v1/internal/users', 0.0031],
      ['POST', '/v1/internal/users', 0.7],
      ['GET', 'unmatched', 7.5],
      ['GET', '/a "quoted"\\route\n', 0.02],
      ['GET', '/v1/internal/users', 5],
    ];
    const [theirs, ours] = await renderBoth(observations);
    expect(ours).toBe(theirs);
    expect(ours).toContain('x_duration_seconds_count{method="GET",route="/v1/internal/users"} 4');
  });

  it('shows nothing for a series never observed, like prom-client', async () => {
    const [theirs, ours] = await renderBoth([]);
    expect(ours).toBe(theirs);
    const registry = new Registry();
    registerHistogram(registry, { ...CONFIG, labelNames: [...CONFIG.labelNames] }).series({ method: 'GET', route: '/' });
    expect(await registry.metrics()).not.toContain('_count');
  });

  it('hands out one series per label set, and a reset empties it without invalidating it', async () => {
    const registry = new Registry();
    const histogram = registerHistogram(registry, { ...CONFIG, labelNames: [...CONFIG.labelNames] });
    const series = histogram.series({ method: 'GET', route: '/' });
    expect(histogram.series({ method: 'GET', route: '/' })).toBe(series);
    series.observe(0.002);
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('_count');
    series.observe(0.002);
    expect(await registry.metrics()).toContain('x_duration_seconds_count{method="GET",route="/"} 1');
  });
});

describe('series that come and go (per-tenant series)', () => {
  it('renderEmpty shows a series at zero before its first observation', async () => {
    const registry = new Registry();
    registerHistogram(registry, { ...CONFIG, labelNames: [...CONFIG.labelNames], renderEmpty: true }).series({ method: 'GET', route: '/' });
    const text = await registry.metrics();
    expect(text).toContain('x_duration_seconds_count{method="GET",route="/"} 0');
    expect(text).toContain('x_duration_seconds_bucket{le="+Inf",method="GET",route="/"} 0');
  });

  it('remove drops a series from the output; asking again starts it from zero', async () => {
    const registry = new Registry();
    const histogram = registerHistogram(registry, { ...CONFIG, labelNames: [...CONFIG.labelNames] });
    histogram.series({ method: 'GET', route: '/a' }).observe(0.002);
    histogram.series({ method: 'GET', route: '/b' }).observe(0.002);
    histogram.remove({ method: 'GET', route: '/a' });
    expect(await registry.metrics()).not.toContain('route="/a"');
    expect(await registry.metrics()).toContain('x_duration_seconds_count{method="GET",route="/b"} 1');
    histogram.series({ method: 'GET', route: '/a' }).observe(0.2);
    expect(await registry.metrics()).toContain('x_duration_seconds_count{method="GET",route="/a"} 1');
  });
});

describe('registerHistogram options', () => {
  it.each([[[0.1, 0.1]], [[1, 0.5]], [[0.1, Infinity]]])('refuses buckets %j', (buckets) => {
    expect(() => registerHistogram(new Registry(), { ...CONFIG, labelNames: [...CONFIG.labelNames], buckets })).toThrow(/strictly ascending/);
  });
});
