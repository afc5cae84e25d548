// The Citus nodes' figures for /metrics (tenantgate_citus_*): read from the cluster view at most once
// per `maxAgeMs`, and only when scraped (no timer of its own). A scrape waits for a refresh it started
// at most `waitMs`, then answers with the figures it has: a worker that does not answer (probed with a
// timeout, src/citus/cluster-status.ts) or a slow coordinator never holds /metrics up for long. A
// refresh that fails leaves no figures (rather than stale ones saying a node is up).
import type { ServerView } from './cluster-view.js';

export interface CitusNodeSample {
  readonly server: string;
  /** host:port */
  readonly node: string;
  readonly up: boolean;
  readonly shards: number;
  /** null when not every shard on it could be measured. */
  readonly shardBytes: number | null;
  readonly workerConnections: number;
}

export interface NodeSamplesOptions {
  readonly maxAgeMs: number;
  readonly waitMs: number;
  readonly now: () => number;
}

export type NodeSamples = () => Promise<readonly CitusNodeSample[]>;

/** The nodes of every Citus server in a listing, as samples. */
export function samplesOf(servers: readonly ServerView[]): CitusNodeSample[] {
  return servers.flatMap((s) =>
    s.kind !== 'citus'
      ? []
      : s.nodes.map((n) => ({
          server: s.name,
          node: `${n.host}:${n.port}`,
          up: n.healthy,
          shards: n.shards,
          shardBytes: n.shard_bytes,
          workerConnections: n.worker_connections,
        })),
  );
}

export function createNodeSamples(read: () => Promise<readonly CitusNodeSample[]>, options: NodeSamplesOptions): NodeSamples {
  let samples: readonly CitusNodeSample[] = [];
  let readAt = Number.NEGATIVE_INFINITY;
  let refreshing: Promise<void> | undefined;
  return async () => {
    if (refreshing === undefined && options.now() - readAt >= options.maxAgeMs) {
      readAt = options.now();
      refreshing = read().then(
        (fresh) => {
          samples = fresh;
        },
        () => {
          samples = [];
        },
      );
      void refreshing.finally(() => {
        refreshing = undefined;
      });
    }
    if (refreshing !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, options.waitMs);
      });
      await Promise.race([refreshing, waited]);
      clearTimeout(timer);
    }
    return samples;
  };
}
