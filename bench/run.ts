// `npm run bench`: provisions the bench database, then for each scenario runs the gateway, the
// baseline and (scenario a) the lean server one after the other (never together: they would share the
// two cores), each with its own warm-up, and reports req/s, latency, plans per request, failures, server
// connections and memory against the targets.
import { citusMissing, openCitusBench, sampleWorkerConnections, type CitusBench } from './citus.js';
import {
  benchTenantIds,
  bigTenantId,
  catalogTenantCount,
  openBenchDatabase,
  provision,
  removePostedUsers,
  serverVersion,
  type BenchDatabase,
} from './database.js';
import { watchForeignCpu } from './foreign-cpu.js';
import { runLoad } from './load.js';
import { machineInfo } from './machine.js';
import { pathShare, readPathCounts } from './metrics.js';
import { probe } from './probe.js';
import { isCitusScenario, isSchemaScenario, parseOptions, USAGE, UsageError, type BenchOptions, type ScenarioKey } from './options.js';
import {
  formatConnections,
  formatPerRequest,
  overBudget,
  scenarioResult,
  textTable,
  updateReadme,
  writeResults,
  type BenchReport,
  type ScenarioResult,
  type ServerRun,
} from './report.js';
import { sampleConnections, sampleRss, type RssSampler, type SampledServer } from './sample.js';
import { benchNeeds, buildCitusScenarios, buildScenarios, buildSchemaScenarios, buildServersScenarios, type Scenario } from './scenarios.js';
import { provisionSchemaTenants, schemaTenantIds } from './schema-tenants.js';
import { openSecondServer, provisionSecondServer, secondServerTenantIds, type SecondServer } from './second-server.js';
import { startServer, type RunningServer, type ServerKind, type ServerSpec } from './servers.js';
import { combineStatementStats, openStatementStats, type StatementStats } from './statements.js';
import { targetLabel, type TargetResult } from './targets.js';

const TENANTS = 10_000;
/** The gateway's default MAX_CONNECTIONS_TOTAL, stated explicitly so the check below cannot drift. */
const GATEWAY_BUDGET = 64;
/** The baseline's single pool: PostgreSQL on two cores is saturated well below this (Node is the ceiling). */
const BASELINE_POOL_MAX = 10;
/** The lean server's single pool, the same as the baseline's. */
const LEAN_POOL_MAX = 10;

/** Other work above this share of the machine's CPU during a run makes its figures suspect. */
const FOREIGN_CPU_WARNING = 5;

interface Context {
  readonly options: BenchOptions;
  readonly db: BenchDatabase;
  readonly signal: AbortSignal;
  /** Stops of running children, so SIGINT or an error can stop them too. */
  readonly live: Set<() => Promise<void>>;
  readonly stats: StatementStats;
  /** Scenario c2's second server, when a chosen scenario needs it, and the statistics of both servers. */
  readonly second: { readonly server: SecondServer; readonly stats: StatementStats } | undefined;
  /** The Citus scenarios' cluster: then `db` is its coordinator. */
  readonly citus: CitusBench | undefined;
}

const log = (line: string): void => void process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof UsageError && err.message ? `${err.message}\n` : ''}${USAGE}\n`);
    process.exit(err instanceof UsageError && !err.message ? 0 : 2);
  }
  const abort = new AbortController();
  const live = new Set<() => Promise<void>>();
  let db: BenchDatabase | undefined;
  let second: SecondServer | undefined;
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> =>
    (stopping ??= (async () => {
      abort.abort();
      await Promise.allSettled([...live].map((stop) => stop()));
      await second?.stop().catch((err: unknown) => log(`stopping the second server failed: ${String(err)}`));
      await db?.stop().catch((err: unknown) => log(`stopping the database failed: ${String(err)}`));
    })());
  process.once('SIGINT', () => {
    log('\ninterrupted: stopping servers and the database');
    void shutdown().finally(() => process.exit(130));
  });
  // The Citus scenarios run alone (parseOptions), on a cluster of their own; without Citus they are skipped.
  const withCitus = options.scenarios.some(isCitusScenario);
  const missing = withCitus ? citusMissing() : undefined;
  if (missing !== undefined) {
    log(`Citus scenarios (${options.scenarios.join(', ')}) skipped: ${missing}`);
    return;
  }
  let citus: CitusBench | undefined;
  try {
    if (withCitus) {
      citus = await openCitusBench(log);
      db = citus.db;
    } else db = await openBenchDatabase(log);
    const stats = await openStatementStats(db.sql);
    log(stats.unavailable === undefined ? 'plans per request: pg_stat_statements' : `plans per request: n/a (${stats.unavailable})`);
    if (benchNeeds(options.scenarios).second > 0) second = await openSecondServer(db, log);
    const both = second ? { server: second, stats: combineStatementStats([stats, await openStatementStats(second.sql, second.name)]) } : undefined;
    await runSuite({ options, db, signal: abort.signal, live, stats, second: both, citus });
  } finally {
    await shutdown();
  }
}

async function runSuite(ctx: Context): Promise<void> {
  const startedAt = new Date().toISOString();
  const machine = await machineInfo(await serverVersion(ctx.db.sql));
  const needs = benchNeeds(ctx.options.scenarios);
  const provisioning = await provision(ctx.db, needs, log);
  // The schema tenants (and their 80,000 relations) only once a schema scenario asks for them; kept after.
  const withSchema = ctx.options.scenarios.some(isSchemaScenario);
  const schemaProvisioning = withSchema ? await provisionSchemaTenants(ctx.db, TENANTS, log) : undefined;
  const second = ctx.second?.server;
  const secondProvisioning = second
    ? await provisionSecondServer(ctx.db, second, { tenants: needs.second, maxConnections: gatewayBudget(ctx.options) }, log)
    : undefined;
  const tenants = { small: await benchTenantIds(ctx.db.sql, needs.small), big: needs.big ? await bigTenantId(ctx.db.sql) : undefined };
  const scenarios: Partial<Record<ScenarioKey, () => Scenario>> = {
    ...buildScenarios(tenants),
    ...(withSchema ? buildSchemaScenarios({ ...tenants, schema: await schemaTenantIds(ctx.db.sql, TENANTS) }) : {}),
    ...(second ? buildServersScenarios({ ...tenants, second: await secondServerTenantIds(ctx.db, second, needs.second) }) : {}),
    ...(ctx.citus ? buildCitusScenarios(tenants) : {}),
  };
  const results: ScenarioResult[] = [];
  for (const key of ctx.options.scenarios) {
    const scenario = scenarios[key];
    if (!scenario) throw new Error(`scenario ${key} was not built`);
    results.push(await runScenario(ctx, scenario()));
  }
  const report: BenchReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    options: ctx.options,
    machine,
    gatewayEnv: publicGatewayEnv(ctx.options),
    baselinePoolMax: BASELINE_POOL_MAX,
    // Every tenant in the catalog: the small ones, the big one and, once provisioned, the schema tenants.
    tenantsKnown: await catalogTenantCount(ctx.db.sql),
    provisioning: {
      ...provisioning,
      ...(schemaProvisioning ? { schema: schemaProvisioning } : {}),
      ...(secondProvisioning ? { second: secondProvisioning } : {}),
    },
    statementStatsUnavailable: ctx.stats.unavailable,
    scenarios: results,
  };
  const file = await writeResults(report);
  log(`\n${textTable(report)}\n`);
  log(`raw figures: bench/${file}`);
  if (ctx.options.updateReadme) {
    const tables = await updateReadme(report, file);
    log(`bench/README.md: ${tables.join(' and ')} updated`);
  }
  warnAboutBudget(results);
}

async function runScenario(ctx: Context, scenario: Scenario): Promise<ScenarioResult> {
  log(`\nscenario ${scenario.key}: ${scenario.title}`);
  let setup: unknown;
  // The set-up (f3's cursors) goes through the gateway, the first server, before its probe.
  const gateway = await measureServer(ctx, scenario, 'gateway', async (server) => {
    if (!scenario.prepare) return;
    const started = Date.now();
    setup = await scenario.prepare(server.baseUrl);
    log(`  set-up through the gateway: ${Date.now() - started} ms`);
  });
  const baseline = await measureServer(ctx, scenario, 'baseline');
  const lean = scenario.withLean ? await measureServer(ctx, scenario, 'lean') : undefined;
  const result = scenarioResult(scenario, { gateway, baseline, lean }, setup);
  log(`  ${result.targets.map(describeTarget).join('; ')}`);
  if (!result.sameResponse) log('  WARNING: gateway and baseline answered the probe request with different bytes');
  return result;
}

function describeTarget(t: TargetResult): string {
  const value = t.kind === 'p50' ? `gw p50 ${t.value} ms` : `gw ÷ ${t.against} ${t.value.toFixed(2)}`;
  return `${value} (target ${targetLabel(t)}): ${t.met ? 'met' : 'MISSED'}`;
}

/** One server through one scenario: start, warm up, measure, stop; samplers run the whole time. */
async function measureServer(ctx: Context, scenario: Scenario, kind: ServerKind, onReady?: (server: RunningServer) => Promise<void>): Promise<ServerRun> {
  ctx.signal.throwIfAborted();
  // Schema scenarios too: their tenants' tables hold their twins' users without any POSTed row.
  if (scenario.writes || isSchemaScenario(scenario.key)) await removePostedUsers(ctx.db.sql);
  const second = scenario.twoServers ? ctx.second : undefined;
  if (scenario.twoServers && !second) throw new Error(`scenario ${scenario.key} needs the second server, which was not started`);
  const sampled: SampledServer[] = [{ name: 'main', url: ctx.db.url }, ...(second ? [{ name: second.server.name, url: second.server.url }] : [])];
  const connections = sampleConnections(sampled, kind);
  const workers = ctx.citus ? sampleWorkerConnections(ctx.citus.coordinator, ctx.citus.workers, kind) : undefined;
  try {
    const server = await startServer(serverSpec(kind, ctx.db, ctx.options, second?.server, ctx.citus !== undefined));
    ctx.live.add(server.stop);
    const rss = sampleRss(server.pid);
    try {
      await onReady?.(server);
      const driven = await driveLoad(ctx, scenario, server, rss, second?.stats ?? ctx.stats);
      // Stop the server before reading the connection peak: its whole life is in the sample.
      const memory = await rss.stop();
      await server.stop();
      const run: ServerRun = {
        kind,
        ...driven,
        connections: await connections.stop(),
        ...(workers ? { workerConnections: await workers.stop() } : {}),
        connectionBudget: kind === 'gateway' ? gatewayBudget(ctx.options) : kind === 'baseline' ? BASELINE_POOL_MAX : LEAN_POOL_MAX,
        rssPeakMb: memory.peakMb,
        logSummary: server.logSummary(),
        logSamples: server.logSamples(),
      };
      log(describeRun(run));
      return run;
    } finally {
      // Also on the error path; each stop is harmless when already done.
      await rss.stop();
      await server.stop();
      ctx.live.delete(server.stop);
    }
  } finally {
    await connections.stop().catch(() => undefined);
    await workers?.stop().catch(() => undefined);
  }
}

type Driven = Pick<ServerRun, 'load' | 'warmupFailures' | 'probeSha256' | 'foreignCpuPercent' | 'rssAfterMb' | 'pathShare' | 'statements'>;

/**
 * Probe, warm-up (discarded), measured load; the path counters and the statement statistics bracket the
 * measured load only.
 */
async function driveLoad(ctx: Context, scenario: Scenario, server: RunningServer, rss: RssSampler, stats: StatementStats): Promise<Driven> {
  const settings = { baseUrl: server.baseUrl, connections: ctx.options.connections, signal: ctx.signal };
  const probeSha256 = await probe(server.baseUrl, scenario.probe(server.kind));
  const warmup =
    ctx.options.warmupSeconds > 0
      ? await runLoad({ ...settings, durationSeconds: ctx.options.warmupSeconds, requests: scenario.requests(server.kind) })
      : undefined;
  // Thousands of tenants: the timed warm-up may not reach each one, and the gateway's tenant cache (a
  // start-up cost, not a per-request one) would then be filled during the measured run. One request per
  // tenant first, for every server alike.
  const coverage =
    ctx.options.warmupSeconds > 0 && scenario.tenantCount > 100
      ? await runLoad({ ...settings, durationSeconds: 120, amount: scenario.tenantCount, requests: scenario.requests(server.kind) })
      : undefined;
  ctx.signal.throwIfAborted();
  const counters = server.kind === 'gateway' ? () => readPathCounts(server.baseUrl) : async () => undefined;
  const before = await counters();
  await stats.reset();
  const foreign = await watchForeignCpu(ctx.citus?.serverPids);
  const load = await runLoad({ ...settings, durationSeconds: ctx.options.durationSeconds, requests: scenario.requests(server.kind) });
  const foreignCpuPercent = await foreign.stop();
  // Interrupted: the figures are partial, report nothing.
  ctx.signal.throwIfAborted();
  const statements = await stats.read(load.sent);
  const rssAfterMb = await rss.current();
  return {
    statements,
    load,
    warmupFailures: {
      non2xx: (warmup?.non2xx ?? 0) + (coverage?.non2xx ?? 0),
      errors: (warmup?.errors ?? 0) + (coverage?.errors ?? 0),
      errorCodes: { ...coverage?.errorCodes, ...warmup?.errorCodes },
    },
    probeSha256,
    foreignCpuPercent,
    rssAfterMb,
    pathShare: pathShare(before, await counters()),
  };
}

/** `second`: the scenario's tenants also live there (the gateway finds it in the catalog, the baseline in its env). */
function serverSpec(kind: ServerKind, db: BenchDatabase, options: BenchOptions, second: SecondServer | undefined, citus: boolean): ServerSpec {
  if (kind === 'baseline') {
    return {
      kind,
      entry: 'bench/baseline.ts',
      env: {
        DATABASE_URL: db.url,
        BASELINE_POOL_MAX: String(BASELINE_POOL_MAX),
        LOG_LEVEL: 'warn',
        ...(second ? { BASELINE_SERVERS: JSON.stringify({ [second.name]: second.url }) } : {}),
        // Custom plans on a Citus coordinator, as the gateway's pools there (bench/baseline.ts).
        ...(citus ? { BASELINE_GENERIC_PLANS: 'false' } : {}),
      },
    };
  }
  if (kind === 'lean') {
    return { kind, entry: 'bench/lean.ts', env: { DATABASE_URL: db.url, LEAN_POOL_MAX: String(LEAN_POOL_MAX) } };
  }
  return {
    kind,
    entry: 'src/main.ts',
    nodeArgs: options.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`],
    env: {
      DATABASE_URL: db.url,
      CREDENTIALS_KEY: db.credentialsKeyHex,
      ADMIN_JWT_SECRET: db.adminJwtSecret,
      ...publicGatewayEnv(options),
    },
  };
}

/**
 * The gateway settings the bench chooses, plus any --gateway-env overrides (everything else is the
 * gateway's default). No secrets: this is written to the results.
 */
function publicGatewayEnv(options: BenchOptions): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    SEED_DEMO: 'false',
    MAX_CONNECTIONS_TOTAL: String(GATEWAY_BUDGET),
    ...options.gatewayEnv,
  };
}

function gatewayBudget(options: BenchOptions): number {
  return Number(options.gatewayEnv.MAX_CONNECTIONS_TOTAL ?? GATEWAY_BUDGET);
}

function describeRun(run: ServerRun): string {
  const l = run.load;
  const failures = l.non2xx + l.errors;
  const codes = Object.entries(l.errorCodes)
    .map(([code, n]) => `${code} ×${n}`)
    .join(', ');
  const share = run.pathShare ? `, ${Math.round(run.pathShare.dedicated * 100)}% dedicated` : '';
  const st = run.statements;
  return (
    `  ${run.kind.padEnd(8)} ${String(l.requestsPerSecond).padStart(6)} req/s  p50 ${l.latencyMs.p50} ms  p99 ${l.latencyMs.p99} ms  ` +
    `plans/req ${formatPerRequest(st?.plansPerRequest)}  calls/req ${formatPerRequest(st?.callsPerRequest)}  ` +
    (st ? `PG ms/req plan ${st.planMsPerRequest?.toFixed(3) ?? 'n/a'} exec ${st.execMsPerRequest.toFixed(3)}  ` : '') +
    `non-2xx+errors ${failures}${codes ? ` (${codes})` : ''}${l.timeouts ? `, ${l.timeouts} timeouts` : ''}  ` +
    `peak conns ${formatConnections(run)}  RSS ${run.rssAfterMb ?? '?'} MB (peak ${run.rssPeakMb})${share}` +
    (run.foreignCpuPercent !== undefined && run.foreignCpuPercent >= FOREIGN_CPU_WARNING
      ? `\n  WARNING: other processes used ${run.foreignCpuPercent}% of the machine's CPU during this run; its figures are skewed`
      : '') +
    (st && st.evicted > 0 ? `\n  WARNING: pg_stat_statements evicted ${st.evicted} times during this run; plans/req and calls/req are too low` : '')
  );
}

function warnAboutBudget(results: readonly ScenarioResult[]): void {
  for (const r of results) {
    const g = r.gateway;
    for (const { server, peak } of overBudget(g)) {
      log(`WARNING scenario ${r.key}: the gateway held ${peak} connections on server ${server}, over its budget of ${g.connectionBudget} there`);
    }
    if (g.load.non2xx + g.load.errors > 0) {
      log(`WARNING scenario ${r.key}: the gateway answered ${g.load.non2xx} non-2xx and had ${g.load.errors} errors:`);
      for (const sample of g.load.errorSamples) log(`  ${sample.status} ${sample.body}`);
    }
    const w = g.warmupFailures;
    if (w.non2xx + w.errors > 0) {
      log(`WARNING scenario ${r.key}: during warm-up the gateway answered ${w.non2xx} non-2xx, ${w.errors} errors: ${JSON.stringify(w.errorCodes)}`);
    }
    if (g.logSamples.length > 0) {
      log(`NOTE scenario ${r.key}: the gateway logged warnings ${JSON.stringify(g.logSummary)}; first lines:`);
      for (const line of g.logSamples) log(`  ${line}`);
    }
  }
}

// Exit explicitly: a stray timer in a library must not keep a finished bench alive.
main().then(
  () => process.exit(0),
  (err: unknown) => {
    // After Ctrl-C the SIGINT handler reports and exits; the aborted run's own error says nothing new.
    if (err instanceof Error && err.name === 'AbortError') return;
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
