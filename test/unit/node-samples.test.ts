// The refresh policy of the tenantgate_citus_* gauges (src/citus/node-samples.ts): read at most once per
// maxAgeMs and only when scraped, a scrape never waits longer than waitMs for a read, and a failed read
// leaves no figures behind.
import { describe, expect, it } from 'vitest';
import { createNodeSamples, type CitusNodeSample } from '../../src/citus/node-samples.js';

const node = (up: boolean): CitusNodeSample => ({ server: 'main', node: '127.0.0.1:5441', up, shards: 3, shardBytes: 100, workerConnections: 1 });

describe('Citus node samples for /metrics', () => {
  it('reads once per maxAgeMs, however often it is scraped', async () => {
    let now = 0;
    let reads = 0;
    const samples = createNodeSamples(
      async () => {
        reads++;
        return [node(true)];
      },
      { maxAgeMs: 5000, waitMs: 1000, now: () => now },
    );
    expect(await samples()).toEqual([node(true)]);
    now = 4999;
    await samples();
    await samples();
    expect(reads).toBe(1);
    now = 5000;
    await samples();
    expect(reads).toBe(2);
  });

  it('answers with what it has after waitMs when a read hangs, and takes the read when it comes', async () => {
    let now = 0;
    let finish: (value: CitusNodeSample[]) => void = () => {};
    let first = true;
    const samples = createNodeSamples(
      () => {
        if (first) {
          first = false;
          return Promise.resolve([node(true)]);
        }
        return new Promise<CitusNodeSample[]>((resolve) => {
          finish = resolve;
        });
      },
      { maxAgeMs: 10, waitMs: 50, now: () => now },
    );
    expect(await samples()).toEqual([node(true)]);
    now = 100;
    const started = Date.now();
    expect(await samples()).toEqual([node(true)]);
    expect(Date.now() - started).toBeLessThan(1000);
    // Still under way: no second read is started, and the scrape again waits at most waitMs.
    now = 200;
    expect(await samples()).toEqual([node(true)]);
    finish([node(false)]);
    await new Promise((r) => setTimeout(r, 0));
    expect(await samples()).toEqual([node(false)]);
  });

  it('drops its figures when a read fails, rather than showing stale ones', async () => {
    let now = 0;
    let fail = false;
    const samples = createNodeSamples(
      async () => {
        if (fail) throw new Error('coordinator unreachable');
        return [node(true)];
      },
      { maxAgeMs: 10, waitMs: 50, now: () => now },
    );
    expect(await samples()).toEqual([node(true)]);
    fail = true;
    now = 20;
    expect(await samples()).toEqual([]);
  });
});
