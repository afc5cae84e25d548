// The load scenarios: which tenants the requests name, in what order, which requests are writes, and
// what each must reach. Tenant lists and the Zipf CDF are computed once at start-up; per request there
// is only a counter step or one PRNG draw and a binary search.
import type autocannon from 'autocannon';
import { collectCursors, type CursorSet } from './cursors.js';
import { POSTED_USER } from './database.js';
import type { CitusScenarioKey, DefaultScenarioKey, SchemaScenarioKey, ScenarioKey, ServersScenarioKey } from './options.js';
import type { ServerKind } from './servers.js';
import { p50Target, ratioTarget, type Target } from './targets.js';

export const USERS_PATH = '/v1/internal/users';
const POST_BODY = JSON.stringify(POSTED_USER);
const ZIPF_EXPONENT = 1.1;
const SEED = 0x7e4a_17a7;
/** f3: pages of 100, resumed by cursor after these OFFSET pages of the big tenant (page 9,000 ≈ row 900,000). */
const CURSOR_PAGE_SIZE = 100;
const CURSOR_AFTER_PAGES = [10, 100, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000];
const DEEPEST_ROW = Math.max(...CURSOR_AFTER_PAGES) * CURSOR_PAGE_SIZE;
/** f1 and f3: the gateway's median latency on the big tenant. */
const BIG_TENANT_P50_MS = 10;

export interface Scenario {
  readonly key: ScenarioKey;
  readonly title: string;
  /** Tenants the requests are spread over. */
  readonly tenantCount: number;
  /** What the gateway must reach; all must be met. */
  readonly targets: readonly Target[];
  /** True when the scenario POSTs (its rows are removed before each run). */
  readonly writes: boolean;
  /** Also measure the lean server (bench/lean.ts): a target is against it. */
  readonly withLean: boolean;
  /** The tenants live on two servers (main and the second, bench/second-server.ts), not on main alone. */
  readonly twoServers: boolean;
  /**
   * Set-up through the public API of the first server measured (the gateway), once per bench run,
   * before its probe; returns what to record (e.g. how long it took).
   */
  prepare?(baseUrl: string): Promise<unknown>;
  /**
   * A request of the scenario that both servers must answer with the same bytes. Per server: in the
   * schema scenarios the gateway is asked for a schema tenant, the references for its row-model twin.
   */
  probe(server: ServerKind): ProbeRequest;
  /**
   * A fresh request list for `server`: counters and PRNG restart, so every server sees the same
   * sequence (the same paths and, but for the schema scenarios' twins, the same tenants).
   */
  requests(server: ServerKind): autocannon.Request[];
}

export interface ProbeRequest {
  readonly path: string;
  readonly tenantId: string;
}

export interface BenchTenants {
  /** The small tenants, index 0 = bench-000001. */
  readonly small: readonly string[];
  /** The tenant with a million users (scenario f); provisioned only when an f scenario runs. */
  readonly big: string | undefined;
}

/** What the chosen scenarios need provisioned: so `--scenario a` creates one tenant, not 10,000. */
export interface BenchNeeds {
  /** Small tenants bench-000001… (each with 10 users). */
  readonly small: number;
  /** The tenant with a million users. */
  readonly big: boolean;
  /** Small tenants on the second server (bench-s2-000001…, 10 users each); the server itself when > 0. */
  readonly second: number;
}

/** c2: tenants per server. */
const C2_PER_SERVER = 5000;

const NEEDS: Readonly<Record<ScenarioKey, Omit<BenchNeeds, 'second'> & { readonly second?: number }>> = {
  a: { small: 1, big: false },
  b: { small: 100, big: false },
  c: { small: 10_000, big: false },
  d: { small: 10_000, big: false },
  e: { small: 1000, big: false },
  f1: { small: 0, big: true },
  f2: { small: 10_000, big: true },
  f3: { small: 0, big: true },
  // Schema tenants are twins of the row-model ones (bench/schema-tenants.ts): all 10,000 of them.
  c1s: { small: 10_000, big: false },
  cs: { small: 10_000, big: false },
  ds: { small: 10_000, big: false },
  // Half of c's 10,000 on each server.
  c2: { small: C2_PER_SERVER, big: false, second: C2_PER_SERVER },
  // c and d's tenants, on the Citus cluster's coordinator (its own catalog).
  cc: { small: 10_000, big: false },
  dc: { small: 10_000, big: false },
};

export function benchNeeds(keys: readonly ScenarioKey[]): BenchNeeds {
  return {
    small: Math.max(0, ...keys.map((key) => NEEDS[key].small)),
    big: keys.some((key) => NEEDS[key].big),
    second: Math.max(0, ...keys.map((key) => NEEDS[key].second ?? 0)),
  };
}

/** All row-model scenarios over the bench tenants (what `all` runs); each built when chosen. */
export function buildScenarios(tenants: BenchTenants): Record<DefaultScenarioKey, () => Scenario> {
  const first = (n: number): readonly string[] => {
    if (tenants.small.length < n) throw new Error(`scenario needs ${n} tenants, ${tenants.small.length} provisioned`);
    return tenants.small.slice(0, n);
  };
  const one =
    (ids: readonly string[]): (() => string) =>
    () =>
      ids[0] as string;
  const big = (): string => {
    if (tenants.big === undefined) throw new Error('scenario needs the big tenant, which was not provisioned');
    return tenants.big;
  };
  return {
    a: () => scenario('a', '1 tenant, GET', first(1), [ratioTarget(0.95), ratioTarget(0.8, 'lean')], false, one),
    b: () => scenario('b', '100 tenants, round robin, GET', first(100), [ratioTarget(0.9)], false, roundRobin),
    c: () => scenario('c', '10,000 tenants, round robin, GET', first(10_000), [ratioTarget(0.8)], false, roundRobin),
    d: () => scenario('d', `10,000 tenants, Zipf s=${ZIPF_EXPONENT}, GET`, first(10_000), [ratioTarget(0.9)], false, zipfPicker()),
    e: () => scenario('e', '1,000 tenants, round robin, 20% POST / 80% GET', first(1000), [ratioTarget(0.85)], true, roundRobin),
    f1: () => scenario('f1', '1M-user tenant, page 1, GET', [big()], [p50Target(BIG_TENANT_P50_MS)], false, one),
    f2: () => scenario('f2', '10,000 tenants, round robin, beside the 1M-user tenant, GET', first(10_000), [ratioTarget(0.8)], false, roundRobin),
    f3: () => deepPages(big()),
  };
}

/**
 * c and d with schema tenants: the gateway serves bench-schema-NNNNNN, the baseline the row-model twin
 * bench-NNNNNN with the same users (bench/schema-tenants.ts). Both lists are in the same order, so the
 * same picker (round robin, or the Zipf draw from the same seed) names twins at every step.
 */
export function buildSchemaScenarios(tenants: BenchTenants & { readonly schema: readonly string[] }): Record<SchemaScenarioKey, () => Scenario> {
  const twins = (n: number): { rows: readonly string[]; schema: readonly string[] } => {
    if (tenants.small.length < n || tenants.schema.length < n) {
      throw new Error(`scenario needs ${n} tenants of each model, ${tenants.schema.length} schema and ${tenants.small.length} row-model provisioned`);
    }
    return { rows: tenants.small.slice(0, n), schema: tenants.schema.slice(0, n) };
  };
  return {
    c1s: () => {
      const t1k = twins(1000);
      return scenario('c1s', '1,000 schema tenants, round robin, GET', t1k.rows, [ratioTarget(0.6)], false, roundRobin, t1k.schema);
    },
    cs: () => {
      const t10k = twins(10_000);
      return scenario('cs', '10,000 schema tenants, round robin, GET', t10k.rows, [ratioTarget(0.6)], false, roundRobin, t10k.schema);
    },
    ds: () => {
      const t10k = twins(10_000);
      return scenario('ds', `10,000 schema tenants, Zipf s=${ZIPF_EXPONENT}, GET`, t10k.rows, [ratioTarget(0.8)], false, zipfPicker(), t10k.schema);
    },
  };
}

/**
 * c over two servers: the first 5,000 small tenants on main and the second server's 5,000, alternating
 * (s2, main, s2, …), round robin. Every server gets half the requests and half the tenants; the probe is
 * the second server's first tenant, so both servers must reach the second server to answer it.
 */
export function buildServersScenarios(tenants: BenchTenants & { readonly second: readonly string[] }): Record<ServersScenarioKey, () => Scenario> {
  return {
    c2: () => {
      if (tenants.small.length < C2_PER_SERVER || tenants.second.length < C2_PER_SERVER) {
        throw new Error(`scenario c2 needs ${C2_PER_SERVER} tenants on each server, ${tenants.small.length} and ${tenants.second.length} provisioned`);
      }
      const ids = Array.from({ length: 2 * C2_PER_SERVER }, (_, i) => (i % 2 === 0 ? tenants.second : tenants.small)[i >> 1] as string);
      return { ...scenario('c2', '10,000 tenants over 2 servers, round robin, GET', ids, [ratioTarget(0.8)], false, roundRobin), twoServers: true };
    },
  };
}

/**
 * c and d as they are, served from a Citus cluster: the bench database is then the coordinator
 * (bench/citus.ts), whose `users` is distributed by tenant_id, so every request is a router query to
 * the worker holding its tenant's shard, for the gateway and the baseline alike.
 */
export function buildCitusScenarios(tenants: BenchTenants): Record<CitusScenarioKey, () => Scenario> {
  const ids = (): readonly string[] => {
    if (tenants.small.length < 10_000) throw new Error(`scenario needs 10000 tenants, ${tenants.small.length} provisioned`);
    return tenants.small.slice(0, 10_000);
  };
  return {
    cc: () => scenario('cc', '10,000 tenants on Citus (3 nodes), round robin, GET', ids(), [ratioTarget(0.8)], false, roundRobin),
    dc: () => scenario('dc', `10,000 tenants on Citus (3 nodes), Zipf s=${ZIPF_EXPONENT}, GET`, ids(), [ratioTarget(0.9)], false, zipfPicker()),
  };
}

type PickerFactory = (ids: readonly string[]) => () => string;

/**
 * `ids`: the tenants the references (baseline, lean) are asked for; `gatewayIds`: the gateway's, index
 * for index (the same tenants unless said otherwise).
 */
function scenario(
  key: ScenarioKey,
  title: string,
  ids: readonly string[],
  targets: readonly Target[],
  writes: boolean,
  picker: PickerFactory,
  gatewayIds: readonly string[] = ids,
): Scenario {
  if (gatewayIds.length !== ids.length) throw new Error(`scenario ${key}: the gateway's tenant list must be as long as the references'`);
  const idsFor = (server: ServerKind): readonly string[] => (server === 'gateway' ? gatewayIds : ids);
  return {
    key,
    title,
    tenantCount: ids.length,
    targets,
    writes,
    withLean: targets.some((t) => t.kind === 'ratio' && t.against === 'lean'),
    twoServers: false,
    probe: (server) => ({ path: USERS_PATH, tenantId: idsFor(server)[0] as string }),
    requests: (server) => {
      const list = idsFor(server);
      return [
        list.length === 1
          ? // One tenant: a static request, so autocannon builds its bytes once, as it would for the baseline.
            { method: 'GET', path: USERS_PATH, headers: { 'x-tenant-id': list[0] as string } }
          : { method: 'GET', path: USERS_PATH, setupRequest: writes ? mixedSetup(picker(list)) : getSetup(picker(list)) },
      ];
    },
  };
}

/** Zipf over the first 10,000 tenants, s = ZIPF_EXPONENT, from the fixed seed. */
function zipfPicker(): PickerFactory {
  const zipf = zipfCdf(10_000, ZIPF_EXPONENT);
  return (ids) => {
    if (ids.length !== zipf.length) throw new Error(`the Zipf picker needs ${zipf.length} tenants, got ${ids.length}`);
    const random = mulberry32(SEED);
    return () => ids[sampleCdf(zipf, random())] as string;
  };
}

/**
 * f3: the big tenant's pages of 100 at depths up to ~900,000 rows, by keyset cursor, in turn. The
 * cursors come from the gateway's own answers at set-up; both servers then get the same request list.
 */
function deepPages(bigTenant: string): Scenario {
  let collected: Promise<CursorSet> | undefined;
  let paths: readonly string[] | undefined;
  const cursorPaths = (): readonly string[] => {
    if (!paths) throw new Error('scenario f3: prepare() must collect the cursors first');
    return paths;
  };
  return {
    key: 'f3',
    title: `1M-user tenant, ${CURSOR_AFTER_PAGES.length} pages of ${CURSOR_PAGE_SIZE} by cursor, down to row ${DEEPEST_ROW.toLocaleString('en-US')}, GET`,
    tenantCount: 1,
    targets: [p50Target(BIG_TENANT_P50_MS)],
    writes: false,
    withLean: false,
    twoServers: false,
    async prepare(baseUrl) {
      collected ??= collectCursors(`${baseUrl}${USERS_PATH}`, bigTenant, CURSOR_PAGE_SIZE, CURSOR_AFTER_PAGES);
      const set = await collected;
      paths = set.cursors.map((c) => `${USERS_PATH}?page_size=${CURSOR_PAGE_SIZE}&cursor=${encodeURIComponent(c)}`);
      return { cursorAfterPages: CURSOR_AFTER_PAGES, offsetPageMs: set.offsetPageMs };
    },
    // The deepest page: both servers must resume from a cursor to the same bytes.
    probe: () => ({ path: cursorPaths().at(-1) as string, tenantId: bigTenant }),
    requests: () => {
      const list = cursorPaths();
      let next = 0;
      return [
        {
          method: 'GET',
          path: list[0] as string,
          headers: { 'x-tenant-id': bigTenant },
          // Only the path changes (a string on the request's own copy); the shared headers stay untouched.
          setupRequest: (request) => {
            request.path = list[next] as string;
            next = next + 1 === list.length ? 0 : next + 1;
            return request;
          },
        },
      ];
    },
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
