// Plans and statements per request, from pg_stat_statements: reset right before a measured run, read
// right after it. Servers run one at a time, so every statement in the bench database in that window
// is the server under test's (its tenant roles, its shared role, its catalog connection), except the
// bench's own sampling queries, which carry the MARK comment and are left out.
import type { Sql } from 'postgres';
import { delay } from './timeout.js';

/** In the text of the bench's own statements while a server is measured (pg_stat_statements keeps comments). */
export const MARK = '/* bench-own */';

export interface StatementFigures {
  /** Statements planned during the run; undefined when pg_stat_statements.track_planning is off. */
  readonly plans: number | undefined;
  /** Top-level statements executed (utility statements such as SET or BEGIN included). */
  readonly calls: number;
  readonly plansPerRequest: number | undefined;
  readonly callsPerRequest: number;
  /** PostgreSQL's planning and execution time per request, ms (total_plan_time, total_exec_time). */
  readonly planMsPerRequest: number | undefined;
  readonly execMsPerRequest: number;
  /** The same sums by role: "tenant roles" (t_<hex>) together, other roles by name. */
  readonly byRole: Record<string, { readonly plans: number; readonly calls: number }>;
  /** The statements run most often (normalised text, shortened), to say what the calls were. */
  readonly top: readonly {
    readonly role: string;
    readonly query: string;
    readonly plans: number;
    readonly calls: number;
    /** Mean planning and execution time, ms. */
    readonly meanPlanMs: number;
    readonly meanExecMs: number;
  }[];
  /** Entries pg_stat_statements evicted during the run (pg_stat_statements.max too small): figures too low. */
  readonly evicted: number;
}

export interface StatementStats {
  /** Why there are no figures (no extension, not preloaded), or undefined when there are. */
  readonly unavailable: string | undefined;
  /** Once the statements still running (the warm-up's last requests) are done, starts counting afresh. */
  reset(): Promise<void>;
  /**
   * The sums since reset(), per request; pass the requests sent, in flight at the end included, since
   * the server runs those too. Undefined when unavailable.
   */
  read(requests: number): Promise<StatementFigures | undefined>;
}

const SETTLE_TIMEOUT_MS = 5000;
const TOP_STATEMENTS = 5;
const TOP_QUERY_CHARS = 200;
const SETTLE_POLL_MS = 25;

/**
 * `server`: a name to put before the role names (`s2/tenant roles`), for a server other than the
 * first, whose figures are combined with the first's (combineStatementStats).
 */
export async function openStatementStats(sql: Sql, server?: string): Promise<StatementStats> {
  const unavailable = await prepare(sql);
  if (unavailable !== undefined) {
    return { unavailable, reset: async () => {}, read: async () => undefined };
  }
  const [setting] = await sql<{ on: boolean }[]>`
    SELECT current_setting('pg_stat_statements.track_planning') = 'on' AS on`;
  const planning = setting?.on ?? false;
  return {
    unavailable: undefined,
    async reset() {
      await settle(sql);
      await sql.unsafe(`SELECT ${MARK} pg_stat_statements_reset()`);
    },
    async read(requests) {
      const found = await sql.unsafe<{ role: string; query: string; plans: number; calls: number; planMs: number; execMs: number }[]>(
        `SELECT ${MARK} CASE WHEN r.rolname ~ '^t_[0-9a-f]{32}$' THEN 'tenant roles' ELSE coalesce(r.rolname, s.userid::text) END AS role,
                left(min(s.query), ${TOP_QUERY_CHARS}) AS query, sum(s.plans)::float8 AS plans, sum(s.calls)::float8 AS calls,
                sum(s.total_plan_time)::float8 AS "planMs", sum(s.total_exec_time)::float8 AS "execMs"
         FROM pg_stat_statements s LEFT JOIN pg_roles r ON r.oid = s.userid
         WHERE s.toplevel AND s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND s.query NOT LIKE '%${MARK}%'
         GROUP BY 1, s.queryid
         ORDER BY calls DESC`,
      );
      const rows = server === undefined ? found : found.map((row) => ({ ...row, role: `${server}/${row.role}` }));
      const [info] = await sql.unsafe<{ dealloc: number }[]>(`SELECT ${MARK} dealloc::float8 AS dealloc FROM pg_stat_statements_info`);
      const byRole: Record<string, { plans: number; calls: number }> = {};
      let plans = 0;
      let calls = 0;
      let planMs = 0;
      let execMs = 0;
      for (const row of rows) {
        const role = byRole[row.role] ?? { plans: 0, calls: 0 };
        byRole[row.role] = { plans: role.plans + row.plans, calls: role.calls + row.calls };
        plans += row.plans;
        calls += row.calls;
        planMs += row.planMs;
        execMs += row.execMs;
      }
      const per = (n: number): number => (requests > 0 ? Math.round((n / requests) * 1000) / 1000 : 0);
      const mean = (ms: number, n: number): number => (n > 0 ? Math.round((ms / n) * 10_000) / 10_000 : 0);
      return {
        plans: planning ? plans : undefined,
        calls,
        plansPerRequest: planning ? per(plans) : undefined,
        callsPerRequest: per(calls),
        planMsPerRequest: planning ? (requests > 0 ? Math.round((planMs / requests) * 10_000) / 10_000 : 0) : undefined,
        execMsPerRequest: requests > 0 ? Math.round((execMs / requests) * 10_000) / 10_000 : 0,
        byRole,
        top: rows.slice(0, TOP_STATEMENTS).map(({ role, query, plans, calls, planMs, execMs }) => ({
          role,
          query,
          plans,
          calls,
          meanPlanMs: mean(planMs, plans),
          meanExecMs: mean(execMs, calls),
        })),
        evicted: info?.dealloc ?? 0,
      };
    },
  };
}

/**
 * Several servers' statistics as one (scenario c2): reset together, read together, their figures summed,
 * since each request's statements run on one server or the other. Unavailable when any one is.
 */
export function combineStatementStats(all: readonly StatementStats[]): StatementStats {
  const unavailable = all.find((stats) => stats.unavailable !== undefined)?.unavailable;
  if (unavailable !== undefined) return { unavailable, reset: async () => {}, read: async () => undefined };
  return {
    unavailable: undefined,
    async reset() {
      await Promise.all(all.map((stats) => stats.reset()));
    },
    async read(requests) {
      const parts = await Promise.all(all.map((stats) => stats.read(requests)));
      return parts.reduce<StatementFigures | undefined>(
        (sum, part) => (sum === undefined || part === undefined ? (sum ?? part) : addFigures(sum, part)),
        undefined,
      );
    },
  };
}

function addFigures(a: StatementFigures, b: StatementFigures): StatementFigures {
  const maybe = (x: number | undefined, y: number | undefined): number | undefined => (x === undefined || y === undefined ? undefined : round(x + y));
  const byRole: Record<string, { plans: number; calls: number }> = { ...a.byRole };
  for (const [role, figures] of Object.entries(b.byRole)) {
    const before = byRole[role] ?? { plans: 0, calls: 0 };
    byRole[role] = { plans: before.plans + figures.plans, calls: before.calls + figures.calls };
  }
  return {
    plans: maybe(a.plans, b.plans),
    calls: a.calls + b.calls,
    plansPerRequest: maybe(a.plansPerRequest, b.plansPerRequest),
    callsPerRequest: round(a.callsPerRequest + b.callsPerRequest),
    planMsPerRequest: maybe(a.planMsPerRequest, b.planMsPerRequest),
    execMsPerRequest: round(a.execMsPerRequest + b.execMsPerRequest),
    byRole,
    top: [...a.top, ...b.top].sort((x, y) => y.calls - x.calls).slice(0, TOP_STATEMENTS),
    evicted: a.evicted + b.evicted,
  };
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/**
 * Waits, at most SETTLE_TIMEOUT_MS, until no session but the bench's own runs a statement in the bench
 * database at two polls in a row.
 */
async function settle(sql: Sql): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  let quietPolls = 0;
  while (quietPolls < 2 && Date.now() < deadline) {
    const [row] = await sql.unsafe<{ active: number }[]>(
      `SELECT ${MARK} count(*)::int AS active FROM pg_stat_activity
       WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()
         AND datname = current_database() AND application_name NOT LIKE 'bench%'`,
    );
    quietPolls = row?.active === 0 ? quietPolls + 1 : 0;
    if (quietPolls < 2) await delay(SETTLE_POLL_MS);
  }
}

/** Creates the extension in the bench database if it can; returns why the figures are unavailable. */
async function prepare(sql: Sql): Promise<string | undefined> {
  try {
    await sql`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`;
    // Querying the view fails unless the library was preloaded at server start.
    await sql.unsafe(`SELECT ${MARK} 1 FROM pg_stat_statements LIMIT 1`);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
