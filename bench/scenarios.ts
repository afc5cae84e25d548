// The five load scenarios: which tenants the requests name, in what order, and which requests are
// writes. Tenant lists and the Zipf CDF are computed once at start-up; per request there is only a
// counter step or one PRNG draw and a binary search.
import type autocannon from 'autocannon';
import { POSTED_USER } from './database.js';
import type { ScenarioKey } from './options.js';

export const USERS_PATH = '/v1/internal/users';
const POST_BODY = JSON.stringify(POSTED_USER);
const ZIPF_EXPONENT = 1.1;
const SEED = 0x7e4a_17a7;

export interface Scenario {
  readonly key: ScenarioKey;
  readonly title: string;
  /** Tenants the requests are spread over. */
  readonly tenantCount: number;
  /** Gateway req/s ÷ baseline req/s that this scenario should reach. */
  readonly target: number;
  /** True when the scenario POSTs (its rows are removed before each run). */
  readonly writes: boolean;
  /** A tenant of the scenario, whose first page both servers must answer identically. */
  readonly probeTenantId: string;
  /** A fresh request list: counters and PRNG restart, so both servers see the same sequence. */
  requests(): autocannon.Request[];
}

/** All scenarios over the bench tenants (index 0 = bench-000001). */
export function buildScenarios(tenantIds: readonly string[]): Record<ScenarioKey, Scenario> {
  const first = (n: number): readonly string[] => {
    if (tenantIds.length < n) throw new Error(`scenario needs ${n} tenants, ${tenantIds.length} provisioned`);
    return tenantIds.slice(0, n);
  };
  const zipf = zipfCdf(10_000, ZIPF_EXPONENT);
  return {
    a: scenario('a', '1 tenant, GET', first(1), 0.9, false, (ids) => () => ids[0] as string),
    b: scenario('b', '100 tenants, round robin, GET', first(100), 0.9, false, roundRobin),
    c: scenario('c', '10,000 tenants, round robin, GET', first(10_000), 0.5, false, roundRobin),
    d: scenario('d', `10,000 tenants, Zipf s=${ZIPF_EXPONENT}, GET`, first(10_000), 0.8, false, (ids) => {
      const random = mulberry32(SEED);
      return () => ids[sampleCdf(zipf, random())] as string;
    }),
    e: scenario('e', '1,000 tenants, round robin, 20% POST / 80% GET', first(1000), 0.8, true, roundRobin),
  };
}

type PickerFactory = (ids: readonly string[]) => () => string;

function scenario(
  key: ScenarioKey,
  title: string,
  ids: readonly string[],
  target: number,
  writes: boolean,
  picker: PickerFactory,
): Scenario {
  return {
    key,
    title,
    tenantCount: ids.length,
    target,
    writes,
    probeTenantId: ids[0] as string,
    requests: () => [
      ids.length === 1
        ? // One tenant: a static request, so autocannon builds its bytes once, as it would for the baseline.
          { method: 'GET', path: USERS_PATH, headers: { 'x-tenant-id': ids[0] as string } }
        : { method: 'GET', path: USERS_PATH, setupRequest: writes ? mixedSetup(picker(ids)) : getSetup(picker(ids)) },
    ],
  };
}

function roundRobin(ids: readonly string[]): () => string {
  let next = 0;
  return () => {
    const id = ids[next] as string;
    next = next + 1 === ids.length ? 0 : next + 1;
    return id;
  };
}

// A fresh headers object every time: autocannon hands setupRequest a copy of the request whose headers
// object is shared with the request list, so mutating it would leak (e.g. a POST's Content-Length into
// the next GET, which then stalls waiting for a body).
function getSetup(pick: () => string): NonNullable<autocannon.Request['setupRequest']> {
  return (request) => {
    request.headers = { 'x-tenant-id': pick() };
    return request;
  };
}

/** 20% POST, drawn from its own seeded PRNG so the mix does not correlate with the tenant order. */
function mixedSetup(pick: () => string): NonNullable<autocannon.Request['setupRequest']> {
  const random = mulberry32(SEED ^ 0x5bd1e995);
  return (request) => {
    const tenantId = pick();
    if (random() < 0.2) {
      request.method = 'POST';
      request.body = POST_BODY;
      request.headers = { 'x-tenant-id': tenantId, 'content-type': 'application/json' };
    } else {
      request.headers = { 'x-tenant-id': tenantId };
    }
    return request;
  };
}

/** Cumulative probabilities of ranks 1..n with weight 1/k^s; the last entry is exactly 1. */
export function zipfCdf(n: number, s: number): Float64Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 1; k <= n; k++) {
    sum += 1 / k ** s;
    cdf[k - 1] = sum;
  }
  for (let i = 0; i < n; i++) cdf[i] = (cdf[i] as number) / sum;
  cdf[n - 1] = 1;
  return cdf;
}

/** The first index whose cumulative probability reaches `u` (binary search). */
export function sampleCdf(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cdf[mid] as number) < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Small seeded PRNG (mulberry32): repeatable sequences, uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
