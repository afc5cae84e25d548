// The soak's summary: a table for people, the full figures as JSON in soak/results/<time>.json, and one
// JSON line of the headline figures (for CI logs).
import { mkdir, writeFile } from 'node:fs/promises';
import type { ConnectionFigures } from './connections.js';
import type { FaultKind } from './faults.js';
import type { Invariant, Violation } from './ledger.js';
import { RSS_CEILING_MB, type GenerationMemory } from './memory.js';
import type { PathCounts } from './paths.js';
import type { StatusFigures, WriteFigures } from './verify.js';

export interface FaultRow {
  readonly kind: FaultKind;
  readonly target: number | undefined;
  /** Seconds since the soak began. */
  readonly atS: number;
  readonly faultMs: number;
  readonly recoveryMs: { hot?: number; cold?: number };
  readonly recovered: boolean;
  /** Ms from the fault's end to the end of the last 503/504 or refused connection before the next fault. */
  readonly lastFailureMs: number | undefined;
  /** Non-2xx outcomes from the fault's start to its recovery, by label. */
  readonly nonOk: Record<string, number>;
  readonly notes: Record<string, number | string>;
}

export interface SoakReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly minutes: number;
  readonly durationS: number;
  readonly run: string;
  readonly machine: { readonly cpus: number; readonly node: string; readonly postgres: string };
  readonly settings: Record<string, string | number>;
  readonly tenants: { readonly hot: number; readonly cold: number };
  readonly requests: { readonly total: number; readonly perSecond: number; readonly successes: number; readonly byStatus: Record<string, number> };
  readonly statuses: StatusFigures;
  readonly writes: WriteFigures;
  readonly reads: { readonly readBacks: number; readonly crossProbes: number; readonly cursorChains: number; readonly rowsChecked: number };
  readonly paths: PathCounts & { readonly hotTenantsOnDedicated: number; readonly coldTenantsOnDedicated: number };
  readonly connections: ConnectionFigures & { readonly budget: number };
  readonly memory: readonly GenerationMemory[];
  readonly faults: readonly FaultRow[];
  readonly gatewayWarnings: Record<string, number>;
  /** Successes per tenant per bucket, and the non-2xx outcomes outside gateway-down windows (first 2000). */
  readonly timeline: {
    readonly bucketS: number;
    readonly successesByTenant: readonly (readonly number[])[];
    readonly failures: readonly { tenant: number; kind: string; label: string; startS: number; ms: number }[];
  };
  readonly invariants: Record<Invariant, number>;
  readonly violations: readonly (Omit<Violation, 'at'> & { readonly atS: number })[];
  readonly passed: boolean;
}

const RESULTS_DIR = new URL('./results/', import.meta.url);

export async function writeReport(report: SoakReport): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const name = `${report.startedAt.slice(0, 19).replace(/:/g, '-')}.json`;
  await writeFile(new URL(name, RESULTS_DIR), JSON.stringify(report, null, 2) + '\n');
  return `soak/results/${name}`;
}

/** The headline figures on one line. */
export function jsonLine(r: SoakReport): string {
  return JSON.stringify({
    soak: r.passed ? 'passed' : 'FAILED',
    minutes: r.minutes,
    requests: r.requests.total,
    rps: r.requests.perSecond,
    writes201: r.writes.acknowledged,
    lost: r.writes.lost,
    duplicated: r.writes.duplicated,
    phantom: r.writes.phantom,
    foreignRows: r.invariants['foreign-rows'],
    unexpectedStatuses: Object.values(r.statuses.unexpected).reduce((a, b) => a + b, 0),
    peakConnections: r.connections.peak,
    budget: r.connections.budget,
    rssGrowth: r.memory.filter((m) => m.judged).map((m) => m.growth),
    faults: r.faults.length,
    worstRecoveryMs: Math.max(0, ...r.faults.map((f) => Math.max(f.recoveryMs.hot ?? 0, f.recoveryMs.cold ?? 0))),
    violations: Object.values(r.invariants).reduce((a, b) => a + b, 0),
  });
}

const pad = (s: string | number, n: number): string => String(s).padEnd(n);
const ms = (v: number | undefined): string => (v === undefined ? '-' : `${v} ms`);

export function textSummary(r: SoakReport): string {
  const lines: string[] = [];
  const labels = (o: Record<string, number>): string =>
    Object.entries(o)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ') || 'none';
  lines.push(`tenantgate chaos soak: ${r.durationS} s (--minutes ${r.minutes}), run ${r.run}, ${r.machine.cpus} CPUs, ${r.machine.postgres}`);
  lines.push(
    `tenants: ${r.tenants.hot} hot (dedicated path), ${r.tenants.cold} cold (shared path); budget MAX_CONNECTIONS_TOTAL=${r.connections.budget}, PROMOTE_RPS=${r.settings.PROMOTE_RPS}`,
  );
  lines.push('');
  lines.push(`requests      ${r.requests.total} (${r.requests.perSecond} req/s), 2xx ${r.requests.successes}`);
  lines.push(`  by outcome  ${labels(r.requests.byStatus)}`);
  lines.push(`  explained   ${labels(r.statuses.expected)}`);
  lines.push(
    `  gateway down ${r.statuses.gatewayDown} connection errors, all inside a kill→ready window; 503/504 outside any fault: ${r.statuses.unavailableInCalm}${r.statuses.unavailableInCalmSamples.length ? ` (${r.statuses.unavailableInCalmSamples.join('; ')})` : ''}`,
  );
  lines.push(`  UNEXPLAINED ${labels(r.statuses.unexpected)}`);
  lines.push(
    `writes        ${r.writes.attempted} sent, ${r.writes.acknowledged} answered 201: ${r.writes.confirmed} in the database exactly once; lost ${r.writes.lost}, duplicated ${r.writes.duplicated}, wrong tenant ${r.writes.wrongTenant}, phantom ${r.writes.phantom}`,
  );
  lines.push(
    `  ambiguous   ${r.writes.ambiguous} (5xx or no answer), of which committed ${r.writes.ambiguousCommitted}; rows of this run in the database ${r.writes.rowsInDatabase}`,
  );
  lines.push(
    `reads         ${r.reads.rowsChecked} rows checked, foreign ${r.invariants['foreign-rows']}; ${r.reads.readBacks} writes read back, ${r.reads.crossProbes} cross-tenant probes, ${r.reads.cursorChains} cursor walks`,
  );
  lines.push(
    `paths         dedicated ${r.paths.dedicated}, shared ${r.paths.shared} statements; hot tenants seen on dedicated pools ${r.paths.hotTenantsOnDedicated}/${r.tenants.hot}, cold ${r.paths.coldTenantsOnDedicated}/${r.tenants.cold}`,
  );
  lines.push(
    `connections   peak ${r.connections.peak} of ${r.connections.budget} held by the gateway (${labels(r.connections.atPeak)}); per-pool peaks ${labels(r.connections.peakByApp)}`,
  );
  lines.push(
    `  listed      peak ${r.connections.peakListed} in pg_stat_activity, incl. backends still exiting after the gateway closed them (seen in ${r.connections.samplesWithExiting} of ${r.connections.samples} samples; more than the budget listed in ${r.connections.samplesListedOverBudget}); ${r.connections.leftOut} terminated/orphaned backends left out`,
  );
  for (const m of r.memory) {
    const verdict = !m.flat
      ? m.peakMb > RSS_CEILING_MB
        ? `ABOVE ${RSS_CEILING_MB} MB`
        : 'GROWING'
      : m.judged
        ? 'flat'
        : `too short to judge growth; under ${RSS_CEILING_MB} MB`;
    lines.push(
      `rss gen ${m.generation}     ${Math.round(m.durationMs / 1000)} s, peak ${m.peakMb} MB, Q2 median ${m.q2MedianMb ?? '-'} MB, Q4 median ${m.q4MedianMb ?? '-'} MB, growth ${m.growth === undefined ? '-' : `${(m.growth * 100).toFixed(1)}%`}: ${verdict}`,
    );
  }
  lines.push('');
  lines.push(
    `${pad('fault', 18)}${pad('at', 8)}${pad('target', 8)}${pad('fault', 10)}${pad('recov hot', 11)}${pad('recov cold', 12)}${pad('last 503', 10)}non-2xx until recovered; notes`,
  );
  for (const f of r.faults) {
    lines.push(
      `${pad(f.kind, 18)}${pad(`${f.atS}s`, 8)}${pad(f.target ?? 'all', 8)}${pad(ms(f.faultMs), 10)}${pad(ms(f.recoveryMs.hot), 11)}${pad(ms(f.recoveryMs.cold), 12)}${pad(ms(f.lastFailureMs), 10)}${labels(f.nonOk)}; ${Object.entries(
        f.notes,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}${f.recovered ? '' : ' NOT RECOVERED'}`,
    );
  }
  lines.push(
    "(recov: from the fault's end until every affected tenant of the class was served again; last 503: until the last 503/504 or refused connection before the next fault)",
  );
  lines.push('');
  lines.push(`gateway warnings: ${labels(r.gatewayWarnings)}`);
  lines.push('');
  lines.push('invariants');
  for (const [name, n] of Object.entries(r.invariants)) lines.push(`  ${pad(name, 14)}${n === 0 ? 'ok' : `FAILED (${n})`}`);
  for (const v of r.violations) lines.push(`  ! +${v.atS}s ${v.invariant}: ${v.detail}`);
  lines.push('');
  lines.push(r.passed ? 'SOAK PASSED' : 'SOAK FAILED');
  return lines.join('\n');
}
