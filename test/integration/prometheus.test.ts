// The shipped monitoring against a real Prometheus (Debian's `prometheus` package): promtool accepts
// ops/prometheus/alerts.yml, a Prometheus of the test's own scrapes a gateway under load (a hot tenant
// promoted to a dedicated pool, a rate-limited one, a suspended one, bad requests, unknown tenants,
// queue timeouts while a table is locked), and every alert expression and every expression of
// ops/grafana/tenantgate.json returns data from it.
// Alert expressions are queried with their thresholds removed (they are written `<op> <number>`, see
// alerts.yml): the load cannot make a database outage or a spent budget without breaking the gateway
// under test, and what matters is that each expression names series the gateway really exports. Two
// alerts the load does trigger (queue rejections, a rate-limited tenant) must also show in ALERTS.
// Skips when prometheus or promtool is missing; REQUIRE_PROMETHEUS=1 (CI) makes that a failure.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';
import { REPO_ROOT } from '../support/processes.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const INSTALL = 'install it with `sudo apt-get install prometheus` (Debian/Ubuntu; .ci/install-prometheus.sh does it and stops the service)';
const ALERTS_FILE = join(REPO_ROOT, 'ops/prometheus/alerts.yml');
const DASHBOARD_FILE = join(REPO_ROOT, 'ops/grafana/tenantgate.json');

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).concat('/usr/bin', '/usr/local/bin')) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

const prometheusBin = onPath('prometheus');
const promtoolBin = onPath('promtool');
const missing = [prometheusBin === undefined ? 'prometheus' : '', promtoolBin === undefined ? 'promtool' : ''].filter(Boolean);
const required = process.env.REQUIRE_PROMETHEUS === '1';

if (missing.length > 0 && !required) {
  console.warn(`prometheus.test.ts skipped: ${missing.join(' and ')} not found; ${INSTALL}`);
}

// Passes where they are installed, fails where they are missing but required (CI), skips otherwise.
it.skipIf(missing.length > 0 && !required)('prometheus and promtool are installed', () => {
  expect(missing, `not found on PATH; ${INSTALL}`).toEqual([]);
});

/** The alert rules: name and expression. */
function alertRules(): { alert: string; expr: string }[] {
  const text = readFileSync(ALERTS_FILE, 'utf8');
  return [...text.matchAll(/- alert: (\w+)\n\s+expr: (.+)\n/g)].map(([, alert, expr]) => ({ alert: alert as string, expr: expr as string }));
}

/** An alert expression without its thresholds: what the condition is measured on. */
function withoutThresholds(expr: string): string {
  return expr.replace(/\s*(?:>=|<=|==|!=|>|<)\s*-?\d+(?:\.\d+)?(?:e[+-]?\d+)?/g, '');
}

/** Every expression of the dashboard, with Grafana's variables filled in as "all". */
function dashboardExpressions(): { panel: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
  return dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      panel: p.title,
      expr: t.expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*').replaceAll('$tenant', '.*'),
    })),
  );
}

describe.skipIf(missing.length > 0)('a real Prometheus scraping the gateway', () => {
  let gw: TestGateway;
  let prometheus: ChildProcess | undefined;
  let prometheusUrl = '';
  let dir = '';
  let stderr = '';

  beforeAll(async () => {
    // A small shared pool and a short queue timeout, so the locked table below makes queue timeouts.
    gw = await startTestGateway({
      pool: { sharedPoolMax: 2, pipelineDepth: 1, promoteRps: 5, dedicatedConnectionRps: 50 },
      queue: { timeoutMs: 300 },
      metrics: { tenantSeries: 3 },
    });
    dir = mkdtempSync(join(tmpdir(), 'tenantgate-prometheus-'));
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'rule_files:',
        `  - ${JSON.stringify(ALERTS_FILE)}`,
        'scrape_configs:',
        '  - job_name: tenantgate',
        '    metrics_path: /metrics',
        '    static_configs:',
        `      - targets: [${JSON.stringify(new URL(gw.url).host)}]`,
        '',
      ].join('\n'),
    );
    await promisify(execFile)(promtoolBin as string, ['check', 'config', config]);
    prometheus = spawn(
      prometheusBin as string,
      [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    prometheus.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await until(
      async () => (await fetch(`${prometheusUrl}/-/ready`).catch(() => undefined))?.status === 200,
      30_000,
      () => `Prometheus ready (${stderr})`,
    );
    // Targets reach the scraper a few seconds after start (discovery updates are batched): the load
    // starts once the first scrape is in, so that every counter's rise is seen.
    await until(
      async () => (await query('up{job="tenantgate"} == 1')).length > 0,
      30_000,
      () => `the first scrape (${stderr})`,
    );
    await putLoad(gw);
  }, 120_000);

  afterAll(async () => {
    if (prometheus !== undefined && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus?.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (prometheus.exitCode === null) prometheus.kill('SIGKILL');
    }
    await gw?.close();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  /** The series an instant query returns now. */
  async function query(expr: string): Promise<unknown[]> {
    const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { result: unknown[] } };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? res.status}`);
    return body.data?.result ?? [];
  }

  /** Expressions (by name) that return no data within the deadline. */
  const withoutData = async (expressions: { name: string; expr: string }[]): Promise<string[]> => {
    const pending = new Map(expressions.map((e) => [e.name, e.expr]));
    const deadline = Date.now() + 20_000;
    while (pending.size > 0 && Date.now() < deadline) {
      for (const [name, expr] of pending) if ((await query(expr)).length > 0) pending.delete(name);
      if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return [...pending].map(([name, expr]) => `${name}: ${expr}`);
  };

  it('promtool check rules accepts ops/prometheus/alerts.yml', async () => {
    const { stdout } = await promisify(execFile)(promtoolBin as string, ['check', 'rules', ALERTS_FILE]);
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('every alert expression returns data (thresholds removed)', async () => {
    const rules = alertRules();
    expect(rules.length).toBeGreaterThanOrEqual(6);
    for (const rule of rules) expect(withoutThresholds(rule.expr), rule.alert).not.toMatch(/(?:[<>]=?|==|!=)(?!\s*")/);
    expect(await withoutData(rules.map((r) => ({ name: r.alert, expr: withoutThresholds(r.expr) })))).toEqual([]);
  }, 60_000);

  it('the load triggers the queue-rejection and rate-limited-tenant alerts (pending)', async () => {
    const alerts = ['TenantgateQueueRejections', 'TenantgateTenantRateLimited'];
    const quiet = await withoutData(alerts.map((name) => ({ name, expr: `ALERTS{alertname="${name}"}` })));
    const seen = JSON.stringify(await query('ALERTS'));
    const errors = JSON.stringify(await query('sum by (instance) (rate(tenantgate_http_errors_total{code=~"queue_timeout|queue_full"}[5m]))'));
    expect(quiet, `ALERTS: ${seen}; errors: ${errors}`).toEqual([]);
  }, 60_000);

  it('every dashboard expression returns data', async () => {
    const expressions = dashboardExpressions();
    expect(expressions.length).toBeGreaterThanOrEqual(20);
    expect(await withoutData(expressions.map((e, i) => ({ name: `${e.panel} #${i}`, expr: e.expr })))).toEqual([]);
  }, 60_000);

  it('per-tenant series reach Prometheus: at most METRICS_TENANT_SERIES tenants and other', async () => {
    const tenants = (await query('count by (tenant) (tenantgate_tenant_requests_total)')) as { metric: { tenant: string } }[];
    expect(tenants.length).toBeLessThanOrEqual(3 + 1);
    expect(tenants.map((t) => t.metric.tenant)).toContain('other');
  });
});

async function until(check: () => Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Eight seconds of traffic: a hot tenant (promoted to a dedicated pool), a rate-limited one, a
 * suspended one and two quiet ones (counted as "other", the first three holding the three slots), with
 * bad parameters and unknown tenants mixed in, and queue timeouts while the users table is locked.
 */
async function putLoad(gw: TestGateway): Promise<void> {
  const admin = { authorization: `Bearer ${gw.adminToken}` };
  const [hot, limited, suspended, quiet1, quiet2] = [
    await gw.createTenant(undefined, 'rls'),
    await gw.createTenant(undefined, 'rls'),
    await gw.createTenant(undefined, 'rls'),
    await gw.createTenant(undefined, 'rls'),
    await gw.createTenant(undefined, 'rls'),
  ] as const;
  await gw.request(`/v1/admin/tenants/${limited.id}`, { method: 'PATCH', headers: admin, json: { rate_limit_rps: 2, rate_limit_burst: 2 } });
  await gw.request(`/v1/admin/tenants/${suspended.id}/suspend`, { method: 'POST', headers: admin });
  const get = async (tenantId: string, query = ''): Promise<void> => {
    await (await gw.request(`/v1/internal/users${query}`, { headers: { 'x-tenant-id': tenantId } })).arrayBuffer();
  };
  // Slots go to the first tenants seen: these three.
  for (const t of [hot, limited, suspended]) await get(t.id);

  const stopAt = Date.now() + 8000;
  const loop = async (every: number, step: (i: number) => Promise<void>): Promise<void> => {
    for (let i = 0; Date.now() < stopAt; i++) {
      await step(i);
      await new Promise((resolve) => setTimeout(resolve, every));
    }
  };
  const lockTable = async (): Promise<void> => {
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const reserved = await gw.db.admin.reserve();
    try {
      await reserved`BEGIN`;
      await reserved`LOCK TABLE users IN ACCESS EXCLUSIVE MODE`;
      // The shared pool's connections block on the lock; the requests behind them time out in the queue.
      const blocked = Array.from({ length: 12 }, (_, i) => get([quiet1, quiet2, hot][i % 3]?.id as string));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await reserved`COMMIT`;
      await Promise.all(blocked);
    } finally {
      reserved.release();
    }
  };
  await Promise.all([
    ...Array.from({ length: 3 }, () => loop(20, () => get(hot.id))),
    loop(50, () => get(limited.id)),
    loop(200, () => get(suspended.id)),
    loop(100, (i) => get(quiet1.id, i % 5 === 0 ? '?page=0' : '')),
    loop(150, async (i) => {
      await get(i % 3 === 0 ? '00000000-0000-4000-8000-000000000000' : quiet2.id);
      if (i % 4 === 0) {
        await (
          await gw.request('/v1/internal/users', { method: 'POST', headers: { 'x-tenant-id': quiet2.id }, json: { first_name: 'Ada', last_name: 'Lovelace' } })
        ).arrayBuffer();
      }
    }),
    lockTable(),
  ]);
}
