// Reads the gateway's Prometheus counters of requests served by dedicated vs shared pools. Optional:
// a gateway without GET /metrics simply yields no figure.
const BY_PATH = /^tenantgate_requests_by_path_total\{([^}]*)\}\s+(\S+)/gm;

export interface PathCounts {
  readonly dedicated: number;
  readonly shared: number;
}

export async function readPathCounts(baseUrl: string): Promise<PathCounts | undefined> {
  let text: string;
  try {
    const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(3000) });
    if (!res.ok) return undefined;
    text = await res.text();
  } catch {
    return undefined;
  }
  const counts = { dedicated: 0, shared: 0 };
  let found = false;
  for (const match of text.matchAll(BY_PATH)) {
    const path = /(?:^|,)path="(\w+)"/.exec(match[1] ?? '')?.[1];
    const value = Number(match[2]);
    if ((path === 'dedicated' || path === 'shared') && Number.isFinite(value)) {
      counts[path] += value;
      found = true;
    }
  }
  return found ? counts : undefined;
}

/** Shares of the requests counted between two readings; undefined when either reading is missing. */
export function pathShare(before: PathCounts | undefined, after: PathCounts | undefined): { dedicated: number; shared: number; requests: number } | undefined {
  if (!before || !after) return undefined;
  const dedicated = after.dedicated - before.dedicated;
  const shared = after.shared - before.shared;
  const requests = dedicated + shared;
  if (requests <= 0) return undefined;
  return { dedicated: dedicated / requests, shared: shared / requests, requests };
}
