// The bench's output: the figures of every run as JSON in bench/results, a compact table on stdout,
// and the generated table between the markers of bench/README.md.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { LoadFigures } from './load.js';
import type { MachineInfo } from './machine.js';
import type { WorkerConnections } from './citus.js';
import { isCitusScenario, isSchemaScenario, isServersScenario, type BenchOptions, type ScenarioKey } from './options.js';
import type { ConnectionPeaks } from './sample.js';
import type { Scenario } from './scenarios.js';
import type { ServerKind } from './servers.js';
import type { StatementFigures } from './statements.js';
import { evaluateTarget, targetLabel, throughputRatio, type TargetResult } from './targets.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const README = fileURLToPath(new URL('./README.md', import.meta.url));
/** The generated tables: the row-model scenarios', and the schema, two-server and Citus scenarios' apart (run on their own). */
const TABLES = [
  {
    name: 'results table',
    start: '<!-- results:start -->',
    end: '<!-- results:end -->',
    holds: (key: ScenarioKey) => !isSchemaScenario(key) && !isServersScenario(key) && !isCitusScenario(key),
  },
  {
    name: 'schema results table',
    start: '<!-- schema-results:start -->',
    end: '<!-- schema-results:end -->',
    holds: (key: ScenarioKey) => isSchemaScenario(key),
  },
  {
    name: 'two-server results table',
    start: '<!-- servers-results:start -->',
    end: '<!-- servers-results:end -->',
    holds: (key: ScenarioKey) => isServersScenario(key),
  },
  {
    name: 'Citus results table',
    start: '<!-- citus-results:start -->',
    end: '<!-- citus-results:end -->',
    holds: (key: ScenarioKey) => isCitusScenario(key),
  },
] as const;
/** Gateway RSS after the 10,000-tenant scenarios should stay under this. */
export const RSS_TARGET_MB = 250;

export interface ServerRun {
  readonly kind: ServerKind;
  readonly load: LoadFigures;
  readonly connections: ConnectionPeaks;
  /** On a Citus cluster: the connections the coordinator held on each worker for this server. */
  readonly workerConnections?: WorkerConnections;
  /**
   * The most connections this server may hold on each PostgreSQL server (the gateway's budget there, the
   * baseline's pool there).
   */
  readonly connectionBudget: number;
  readonly rssPeakMb: number;
  /** RSS right after the measured load. */
  readonly rssAfterMb: number | undefined;
  /** Share of measured requests served by dedicated vs shared pools (gateway with /metrics only). */
  readonly pathShare: { dedicated: number; shared: number; requests: number } | undefined;
  readonly logSummary: Record<string, number>;
  /** The first line of each kind of warning the server logged (start-up, warm-up and measured run). */
  readonly logSamples: readonly string[];
  /** Failures during the (discarded) warm-up: they do not count in the figures but must not hide. */
  readonly warmupFailures: { readonly non2xx: number; readonly errors: number; readonly errorCodes: Record<string, number> };
  /** sha256 of the first page of the scenario's probe tenant, read before any load. */
  readonly probeSha256: string;
  /** Percent of the machine's CPU other processes used during the measured run (noise indicator). */
  readonly foreignCpuPercent: number | undefined;
  /** Statements planned and run per request during the measured run (pg_stat_statements), if available. */
  readonly statements: StatementFigures | undefined;
}

export interface ScenarioResult {
  readonly key: ScenarioKey;
  readonly title: string;
  readonly tenantCount: number;
  readonly targets: readonly TargetResult[];
  readonly gateway: ServerRun;
  readonly baseline: ServerRun;
  /** The lean server's run, in scenarios with a target against it. */
  readonly lean: ServerRun | undefined;
  /** Gateway req/s ÷ baseline req/s. */
  readonly ratio: number;
  /** Gateway req/s ÷ lean req/s, when the lean server ran. */
  readonly leanRatio: number | undefined;
  /** Every target met. */
  readonly met: boolean;
  /** Gateway and baseline answered the probe request with the same bytes. */
  readonly sameResponse: boolean;
  /** What the scenario's set-up recorded (f3: the OFFSET pages its cursors came from). */
  readonly setup: unknown;
}

export interface BenchReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly options: BenchOptions;
  readonly machine: MachineInfo;
  readonly gatewayEnv: Record<string, string>;
  readonly baselinePoolMax: number;
  readonly tenantsKnown: number;
  readonly provisioning: unknown;
  /** Why plans per request are n/a (pg_stat_statements missing), or undefined when they were measured. */
  readonly statementStatsUnavailable: string | undefined;
  readonly scenarios: readonly ScenarioResult[];
}

export interface ScenarioRuns {
  readonly gateway: ServerRun;
  readonly baseline: ServerRun;
  readonly lean: ServerRun | undefined;
}

export function scenarioResult(scenario: Pick<Scenario, 'key' | 'title' | 'tenantCount' | 'targets'>, runs: ScenarioRuns, setup: unknown): ScenarioResult {
  const { gateway, baseline, lean } = runs;
  const loads = { gateway: gateway.load, baseline: baseline.load, lean: lean?.load };
  const targets = scenario.targets.map((t) => evaluateTarget(t, loads));
  return {
    key: scenario.key,
    title: scenario.title,
    tenantCount: scenario.tenantCount,
    targets,
    gateway,
    baseline,
    lean,
    ratio: throughputRatio(gateway.load, baseline.load),
    leanRatio: lean ? throughputRatio(gateway.load, lean.load) : undefined,
    met: targets.every((t) => t.met),
    sameResponse: gateway.probeSha256 === baseline.probeSha256,
    setup,
  };
}

/** Writes bench/results/<YYYY-MM-DD>T<HH-MM>.json (UTC); returns its path relative to bench/. */
export async function writeResults(report: BenchReport): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const stamp = report.startedAt.slice(0, 16).replace(':', '-');
  const name = `${stamp}.json`;
  await writeFile(`${RESULTS_DIR}${name}`, JSON.stringify(report, null, 2) + '\n');
  return `results/${name}`;
}

const HEADERS = [
  'scenario',
  'gw req/s',
  'base req/s',
  'ratio',
  'lean req/s (gw ÷ lean)',
  'target',
  'met?',
  'p50 gw/base ms',
  'p99 gw/base ms',
  'plans/req gw/base(/lean)',
  'calls/req gw/base(/lean)',
  'non-2xx gw/base',
  'peak conns gw/base (budget)',
  'gw RSS MB (after/peak)',
  'other CPU % gw/base',
];

function rows(report: BenchReport): string[][] {
  return report.scenarios.map((s) => {
    const g = s.gateway;
    const b = s.baseline;
    const servers = s.lean ? [g, b, s.lean] : [g, b];
    const failures = (r: ServerRun): number => r.load.non2xx + r.load.errors;
    const perRequest = (figure: (f: StatementFigures) => number | undefined): string =>
      servers.map((r) => formatPerRequest(r.statements ? figure(r.statements) : undefined)).join(' / ');
    return [
      `${s.key}: ${s.title}`,
      String(g.load.requestsPerSecond),
      String(b.load.requestsPerSecond),
      s.ratio.toFixed(2),
      s.lean ? `${s.lean.load.requestsPerSecond} (${(s.leanRatio ?? 0).toFixed(2)})` : '—',
      s.targets.map(targetLabel).join('; '),
      s.targets.map((t) => (t.met ? 'met' : 'missed')).join('; '),
      `${g.load.latencyMs.p50} / ${b.load.latencyMs.p50}`,
      `${g.load.latencyMs.p99} / ${b.load.latencyMs.p99}`,
      perRequest((f) => f.plansPerRequest),
      perRequest((f) => f.callsPerRequest),
      `${failures(g)} / ${failures(b)}`,
      `${formatConnections(g)} / ${formatConnections(b)}`,
      `${g.rssAfterMb ?? '?'} / ${g.rssPeakMb}`,
      `${g.foreignCpuPercent ?? '?'} / ${b.foreignCpuPercent ?? '?'}`,
    ];
  });
}

/** Peak connections and the budget: "11 (64)"; with several servers "main 11 + s2 9 (64 each)". */
export function formatConnections(run: ServerRun): string {
  const servers = Object.entries(run.connections.byServer);
  const own =
    servers.length <= 1
      ? `${run.connections.peak} (${run.connectionBudget})`
      : `${servers.map(([name, peaks]) => `${name} ${peaks.peak}`).join(' + ')} (${run.connectionBudget} each)`;
  const workers = Object.values(run.workerConnections?.byWorker ?? {});
  // Citus: "8 (64), per worker 8 + 8" (coordinator → worker connections opened for this server).
  return workers.length === 0 ? own : `${own}, per worker ${workers.map((w) => w.peak).join(' + ')}`;
}

/** The servers on which the run held more connections than its budget there, with the peak. */
export function overBudget(run: ServerRun): { readonly server: string; readonly peak: number }[] {
  return Object.entries(run.connections.byServer)
    .filter(([, peaks]) => peaks.peak > run.connectionBudget)
    .map(([server, peaks]) => ({ server, peak: peaks.peak }));
}

/** Two decimals, n/a when unmeasured. */
export function formatPerRequest(value: number | undefined): string {
  return value === undefined ? 'n/a' : value.toFixed(2);
}

/** Fixed-width table for the terminal. */
export function textTable(report: BenchReport): string {
  const all = [HEADERS, ...rows(report)];
  const widths = HEADERS.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ');
  return [line(HEADERS), widths.map((w) => '-'.repeat(w)).join('  '), ...rows(report).map(line)].join('\n');
}

export function markdownSection(report: BenchReport, resultsFile: string): string {
  const m = report.machine;
  const o = report.options;
  const table = [HEADERS, HEADERS.map(() => '---'), ...rows(report)].map((r) => `| ${r.join(' | ')} |`);
  const shares = report.scenarios
    .filter((s) => s.gateway.pathShare)
    .map((s) => `${s.key}: ${Math.round((s.gateway.pathShare?.dedicated ?? 0) * 100)}% dedicated`);
  const rss = report.scenarios
    .filter((s) => s.tenantCount >= 10_000)
    .map((s) => `${s.key}: ${s.gateway.rssAfterMb ?? '?'} MB after, ${s.gateway.rssPeakMb} MB peak`);
  return [
    `Measured ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC on ${m.cpus} × ${m.cpuModel}, Node ${m.node}, ` +
      `PostgreSQL ${m.postgres}, commit \`${m.commit.slice(0, 12)}\`${m.dirty ? ' + uncommitted changes' : ''}. ` +
      `${o.connections} connections, ${o.warmupSeconds} s warm-up + ${o.durationSeconds} s measured per server. ` +
      `Raw figures: [\`${resultsFile}\`](${resultsFile}).` +
      (Object.keys(o.gatewayEnv).length > 0
        ? ` Gateway overrides: ${Object.entries(o.gatewayEnv)
            .map(([k, v]) => `\`${k}=${v}\``)
            .join(', ')}.`
        : ''),
    '',
    ...table,
    '',
    `Tenants known to the gateway: ${report.tenantsKnown.toLocaleString('en-US')}. ` +
      `Gateway RSS against the ${RSS_TARGET_MB} MB target: ${rss.length > 0 ? rss.join('; ') : 'no 10,000-tenant scenario run'}.` +
      (shares.length > 0 ? ` Requests on dedicated pools: ${shares.join(', ')}.` : ''),
    'Non-2xx counts include connection errors and timeouts; peak connections are sampled from `pg_stat_activity` every 100 ms. ' +
      (report.scenarios.some((s) => s.gateway.workerConnections)
        ? 'On Citus, "per worker" is the peak of the connections the coordinator held on each worker for that server ' +
          "(each worker's `pg_stat_activity`, a connection attributed to the coordinator backend named by its `citus_internal gpid`). "
        : '') +
      '"Other CPU" is the share of the machine other processes used during the run: above a few percent, the figures are skewed. ' +
      'Plans/req and calls/req: statements PostgreSQL planned and ran (top level, from `pg_stat_statements`) per completed request ' +
      'during the measured run' +
      (report.statementStatsUnavailable === undefined ? '.' : `; n/a here: ${report.statementStatsUnavailable.replace(/\s+/g, ' ')}.`),
  ].join('\n');
}

/**
 * Replaces the text between the markers of each table this run has scenarios for, keeping the other
 * table and the hand-written rest of bench/README.md: a run of the schema scenarios alone leaves the
 * row-model table as it was, and the other way round. Returns the names of the tables written.
 */
export async function updateReadme(report: BenchReport, resultsFile: string): Promise<string[]> {
  let text = await readFile(README, 'utf8');
  const written: string[] = [];
  for (const table of TABLES) {
    const scenarios = report.scenarios.filter((s) => table.holds(s.key));
    if (scenarios.length === 0) continue;
    const start = text.indexOf(table.start);
    const end = text.indexOf(table.end);
    if (start < 0 || end < start) throw new Error(`bench/README.md lacks the ${table.start} … ${table.end} markers`);
    const section = markdownSection({ ...report, scenarios }, resultsFile);
    text = `${text.slice(0, start + table.start.length)}\n${section}\n${text.slice(end)}`;
    written.push(table.name);
  }
  await writeFile(README, text);
  return written;
}
