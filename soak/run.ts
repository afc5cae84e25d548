// `npm run soak -- --minutes N`: a chaos soak of the gateway. Starts its own embedded PostgreSQL and the
// gateway as a child process, creates hot and cold tenants, drives mixed traffic at modest concurrency
// and injects faults on a schedule (backends terminated, a password rotated, a tenant suspended and
// resumed, the change listener killed, PostgreSQL stopped and started, the gateway SIGKILLed and
// restarted), compressed so that even one minute sees each kind once. Checks the invariants during and
// after, prints a summary and exits 1 when any failed.
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { adminClient } from './admin.js';
import { sampleConnections } from './connections.js';
import { openSoakDatabase, type SoakDatabase } from './database.js';
import { FAULT_KINDS, runFault, type FaultContext, type FaultResult } from './faults.js';
import { gatewayProcess, type GatewayProcess } from './gateway.js';
import { httpClient } from './http.js';
import { BUCKET_MS, Ledger, overlaps, type Invariant } from './ledger.js';
import { RSS_CEILING_MB, sampleMemory } from './memory.js';
import { parseOptions, USAGE, UsageError, type SoakOptions } from './options.js';
import { samplePaths } from './paths.js';
import { freePort } from './ports.js';
import { jsonLine, textSummary, writeReport, type FaultRow, type SoakReport } from './report.js';
import { CLIENT_TIMEOUT_MS, CONNECTION_BUDGET, GATEWAY_SETTINGS, gatewayEnv } from './settings.js';
import { COLD_TENANTS, createTenants, HOT_TENANTS } from './tenants.js';
import { delay } from './time.js';
import { startTraffic } from './traffic.js';
import { classifyFailures, verifyWrites } from './verify.js';

const log = (line: string): void => void process.stdout.write(`${line}\n`);

const INVARIANTS: Invariant[] = ['statuses', 'writes', 'foreign-rows', 'read-back', 'cursor-pages', 'suspension', 'connections', 'rss', 'recovery', 'coverage'];

/** Fault slots aim at this length; shorter runs compress them down to what one minute allows. */
const TARGET_SLOT_MS = 20_000;
/** How long PostgreSQL stays down, and a tenant suspended, in a slot of this length or more. */
const HOLD_MS = 2_000;

interface Plan {
  readonly warmupMs: number;
  readonly tailMs: number;
  readonly slots: number;
  readonly slotMs: number;
}

/** Warm-up (promotions happen), then whole cycles of every fault kind, then a calm tail. */
export function plan(minutes: number): Plan {
  const totalMs = minutes * 60_000;
  const warmupMs = minutes < 3 ? 8_000 : 15_000;
  const tailMs = minutes < 3 ? 6_000 : 15_000;
  const faultMs = totalMs - warmupMs - tailMs;
  const cycles = Math.max(1, Math.floor(faultMs / (FAULT_KINDS.length * TARGET_SLOT_MS)));
  const slots = cycles * FAULT_KINDS.length;
  return { warmupMs, tailMs, slots, slotMs: faultMs / slots };
}

async function main(): Promise<number> {
  let options: SoakOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof UsageError && err.message ? `${err.message}\n` : ''}${USAGE}\n`);
    return err instanceof UsageError && !err.message ? 0 : 2;
  }
  let db: SoakDatabase | undefined;
  let gateway: GatewayProcess | undefined;
  const cleanup = async (): Promise<void> => {
    await gateway?.stop().catch(() => undefined);
    await db?.close(options.keepData).catch((err: unknown) => log(`stopping PostgreSQL failed: ${String(err)}`));
  };
  process.once('SIGINT', () => {
    log('\ninterrupted: stopping the gateway and PostgreSQL');
    void cleanup().finally(() => process.exit(130));
  });
  try {
    db = await openSoakDatabase(log);
    const credentialsKeyHex = randomBytes(32).toString('hex');
    const adminSecret = randomBytes(32).toString('base64url');
    gateway = gatewayProcess(gatewayEnv(db.url, credentialsKeyHex, adminSecret), await freePort());
    return await soak(options, db, gateway, adminSecret);
  } finally {
    await cleanup();
  }
}

async function soak(options: SoakOptions, db: SoakDatabase, gateway: GatewayProcess, adminSecret: string): Promise<number> {
  const startedIso = new Date().toISOString();
  await gateway.start();
  log(`gateway: ${gateway.baseUrl}, pid ${gateway.pid()}`);
  const run = randomBytes(4).toString('hex').replace(/^\d/, 'r');
  const admin = await adminClient(gateway.baseUrl, adminSecret);
  const tenants = await createTenants(admin, run);
  log(`tenants: ${tenants.length} (${HOT_TENANTS} hot, ${COLD_TENANTS} cold), run ${run}`);
  const [versionRow] = await db.sql<{ version: string }[]>`SELECT split_part(version(), ' on ', 1) AS version`;
  const version = versionRow?.version ?? 'PostgreSQL';

  const schedule = plan(options.minutes);
  log(
    `schedule: warm-up ${schedule.warmupMs / 1000} s, ${schedule.slots} faults every ${(schedule.slotMs / 1000).toFixed(1)} s, calm tail ${schedule.tailMs / 1000} s`,
  );
  const t0 = Date.now();
  const ledger = new Ledger(t0);
  const connections = sampleConnections(db.sql, () => gateway.pid(), db.port, CONNECTION_BUDGET);
  const memory = sampleMemory(() => ({ pid: gateway.pid(), generation: gateway.generation() }));
  const paths = samplePaths(gateway.baseUrl, () => gateway.generation());
  const client = httpClient(gateway.baseUrl, CLIENT_TIMEOUT_MS);
  const traffic = startTraffic(client, tenants, ledger);
  const ctx: FaultContext = { db, gateway, admin, tenants, ledger, connections, log, beforeKill: () => paths.read() };
  const holdMs = Math.min(HOLD_MS, schedule.slotMs / 4);

  const faults: FaultResult[] = [];
  await delay(schedule.warmupMs);
  for (let i = 0; i < schedule.slots; i++) {
    const slotStart = t0 + schedule.warmupMs + i * schedule.slotMs;
    await delay(slotStart - Date.now());
    const kind = FAULT_KINDS[i % FAULT_KINDS.length] as (typeof FAULT_KINDS)[number];
    const cycle = Math.floor(i / FAULT_KINDS.length);
    const result = await runFault(kind, cycle, ctx, holdMs);
    faults.push(result);
    const rec = [result.recoveryMs.hot, result.recoveryMs.cold].map((v) => (v === undefined ? '-' : `${v} ms`)).join(' / ');
    log(
      `  +${Math.round((result.startedAt - t0) / 1000)} s ${kind}${result.target === undefined ? '' : ` (tenant ${result.target})`}: recovered hot / cold ${rec}${result.recoveredAt === undefined ? ' NOT RECOVERED' : ''}`,
    );
  }
  await delay(t0 + options.minutes * 60_000 - Date.now());

  // Which tenants had dedicated pools, before the final read-backs (a burst for each tenant) can promote more.
  const roles = new Set(connections.dedicatedRoles());
  log('stopping traffic; reading back the last writes');
  const finishedAt = Date.now();
  await traffic.stop();
  await finalLiveness(client, tenants, ledger);
  client.close();
  const pathCounts = await paths.stop();
  const connectionFigures = await connections.stop();
  const memoryFigures = await memory.stop();

  const faultWindows = faults.map((f) => ({ from: f.startedAt, to: f.recoveredAt ?? f.endedAt + 30_000 }));
  const statuses = classifyFailures(ledger, faultWindows);
  const writes = await verifyWrites(db.sql, run, tenants, ledger);

  if (connectionFigures.peak > CONNECTION_BUDGET) {
    ledger.violate(
      'connections',
      `peak ${connectionFigures.peak} gateway connections > budget ${CONNECTION_BUDGET}: ${JSON.stringify(connectionFigures.atPeak)}`,
      connectionFigures.peakAt,
    );
  }
  for (const m of memoryFigures) {
    if (!m.flat && m.peakMb > RSS_CEILING_MB) ledger.violate('rss', `gateway generation ${m.generation}: RSS peak ${m.peakMb} MB, above ${RSS_CEILING_MB} MB`);
    else if (!m.flat)
      ledger.violate(
        'rss',
        `gateway generation ${m.generation}: RSS median ${m.q2MedianMb} MB → ${m.q4MedianMb} MB (+${((m.growth ?? 0) * 100).toFixed(1)}%) after warm-up`,
      );
  }
  const onDedicated = (klass: 'hot' | 'cold'): number => tenants.filter((t) => t.klass === klass && roles.has(t.dbUser)).length;
  if (onDedicated('hot') === 0 || pathCounts.dedicated === 0)
    ledger.violate('coverage', 'no hot tenant was seen on a dedicated pool: the dedicated path was not exercised');
  if (pathCounts.shared === 0) ledger.violate('coverage', 'the shared pool served nothing');
  for (const kind of FAULT_KINDS) if (!faults.some((f) => f.kind === kind)) ledger.violate('coverage', `fault ${kind} never happened`);
  if (writes.acknowledged === 0) ledger.violate('coverage', 'no write was acknowledged');

  const faultRows: FaultRow[] = faults.map((f, i) => {
    const to = f.recoveredAt ?? f.endedAt;
    const nonOk: Record<string, number> = {};
    for (const x of ledger.failures) if (overlaps(x.start, x.end, { from: f.startedAt, to })) nonOk[x.label] = (nonOk[x.label] ?? 0) + 1;
    // Single requests may still fail after every tenant has been served once (another connection of a
    // pool meeting the fault late): the last 503/504 or refused connection answered before the next fault.
    const next = faults[i + 1]?.startedAt ?? finishedAt;
    let lastFailureMs: number | undefined;
    for (const x of ledger.failures) {
      if ((x.status === undefined || x.status === 503 || x.status === 504) && x.end >= f.endedAt && x.end < next) {
        lastFailureMs = Math.max(lastFailureMs ?? 0, x.end - f.endedAt);
      }
    }
    return {
      lastFailureMs,
      kind: f.kind,
      target: f.target,
      atS: Math.round((f.startedAt - t0) / 100) / 10,
      faultMs: f.endedAt - f.startedAt,
      recoveryMs: f.recoveryMs,
      recovered: f.recoveredAt !== undefined,
      nonOk,
      notes: f.notes,
    };
  });
  const invariants = Object.fromEntries(INVARIANTS.map((name) => [name, ledger.violationCounts.get(name) ?? 0])) as Record<Invariant, number>;
  const durationS = Math.round((finishedAt - t0) / 1000);
  const report: SoakReport = {
    startedAt: startedIso,
    finishedAt: new Date().toISOString(),
    minutes: options.minutes,
    durationS,
    run,
    machine: { cpus: cpus().length, node: process.version, postgres: version },
    settings: { ...GATEWAY_SETTINGS },
    tenants: { hot: HOT_TENANTS, cold: COLD_TENANTS },
    requests: {
      total: ledger.requests,
      perSecond: Math.round(ledger.requests / Math.max(1, durationS)),
      successes: ledger.successes,
      byStatus: Object.fromEntries([...ledger.counts.entries()].sort((a, b) => b[1] - a[1])),
    },
    statuses,
    writes,
    reads: { readBacks: ledger.readBacks, crossProbes: ledger.crossProbes, cursorChains: ledger.cursorChains, rowsChecked: ledger.rowsChecked },
    paths: { ...pathCounts, hotTenantsOnDedicated: onDedicated('hot'), coldTenantsOnDedicated: onDedicated('cold') },
    connections: { ...connectionFigures, budget: CONNECTION_BUDGET },
    memory: memoryFigures,
    faults: faultRows,
    gatewayWarnings: gateway.warnings(),
    invariants,
    timeline: {
      bucketS: BUCKET_MS / 1000,
      successesByTenant: tenants.map((t) => ledger.successBuckets.get(t.idx) ?? []),
      failures: ledger.failures
        .filter((x) => !ledger.gatewayDown.some((w) => overlaps(x.start, x.end, w, 250)))
        .slice(0, 2000)
        .map((x) => ({ tenant: x.tenant, kind: x.kind, label: x.label, startS: Math.round((x.start - t0) / 10) / 100, ms: x.end - x.start })),
    },
    violations: ledger.violations.map(({ at, ...v }) => ({ ...v, atS: Math.round((at - t0) / 100) / 10 })),
    passed: Object.values(invariants).every((n) => n === 0),
  };
  const file = await writeReport(report);
  log('');
  log(textSummary(report));
  log(`full figures: ${file}`);
  if (!report.passed) {
    log('gateway log samples (warn and above):');
    for (const line of gateway.samples()) log(`  ${line}`);
  }
  log(jsonLine(report));
  return report.passed ? 0 : 1;
}

/** After the traffic: every tenant must be served (the last fault has been recovered from). */
async function finalLiveness(client: ReturnType<typeof httpClient>, tenants: Awaited<ReturnType<typeof createTenants>>, ledger: Ledger): Promise<void> {
  for (const tenant of tenants) {
    const deadline = Date.now() + 15_000;
    let last = 'no answer';
    for (;;) {
      const ex = await client.send('GET', '/v1/internal/users?page_size=1', { 'x-tenant-id': tenant.id });
      if (ex.outcome.kind === 'answer' && ex.outcome.status === 200) break;
      last = ex.outcome.kind === 'answer' ? String(ex.outcome.status) : ex.outcome.kind;
      if (Date.now() > deadline) {
        ledger.violate('recovery', `tenant ${tenant.idx} still not served after the soak (last: ${last})`);
        break;
      }
      await delay(200);
    }
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak failed to run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
