// `cluster status` as text for a terminal (the CLI prints the API's JSON with --json instead).
import type { ServerView, TenantLocation } from './cluster-view.js';

export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '?';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** Columns padded to their widest cell. */
function table(rows: readonly (readonly string[])[], indent: string): string[] {
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), []);
  return rows.map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '));
}

export function formatServers(servers: readonly ServerView[]): string {
  const lines: string[] = [];
  for (const s of servers) {
    if (s.kind !== 'citus') {
      lines.push(`server ${s.name}: ${s.kind === 'postgres' ? 'PostgreSQL (not Citus)' : 'unreachable'}`);
      continue;
    }
    lines.push(`server ${s.name}: Citus ${s.citus_version}`, '  nodes');
    lines.push(
      ...table(
        [
          ['node', 'role', 'health', 'shards', 'size', 'connections'],
          ...s.nodes.map((n) => [
            `${n.host}:${n.port}`,
            n.role,
            n.healthy ? 'up' : 'DOWN',
            String(n.shards),
            formatBytes(n.shard_bytes),
            String(n.worker_connections),
          ]),
        ],
        '    ',
      ),
    );
    lines.push('  tables');
    lines.push(
      ...table(
        [
          ['table', 'type', 'column', 'colocation', 'shards', 'size'],
          ...s.tables.map((t) => [t.name, t.type, t.distribution_column ?? '-', String(t.colocation_id), String(t.shard_count), formatBytes(t.bytes)]),
        ],
        '    ',
      ),
    );
    lines.push(`  tenant schemas: ${s.schemas.count} (${s.schemas.tables} tables, ${formatBytes(s.schemas.bytes)})`);
    if (s.tenant_activity === null) {
      lines.push('  tenant activity: off (citus.stat_tenants_track is none)');
    } else {
      lines.push(`  tenant activity (citus_stat_tenants, periods of ${s.tenant_activity.period_seconds} s)`);
      lines.push(
        ...table(
          [
            ['tenant', 'queries', 'last period', 'reads', 'cpu s'],
            ...s.tenant_activity.tenants.map((t) => [
              t.tenant_id ?? t.attribute,
              String(t.queries_this_period),
              String(t.queries_last_period),
              String(t.reads_this_period),
              t.cpu_seconds_this_period.toFixed(4),
            ]),
          ],
          '    ',
        ),
      );
    }
  }
  return lines.join('\n');
}

export function formatTenantLocation(t: TenantLocation): string {
  const lines = [`tenant ${t.id} (${t.name}): model ${t.model}, server ${t.server} (${t.kind === 'citus' ? 'Citus' : 'PostgreSQL, not Citus'})`];
  const p = t.placement;
  if (p === null) {
    if (t.kind === 'citus') lines.push('  not placed on the cluster (its tables are not distributed)');
    return lines.join('\n');
  }
  lines.push(`  node ${p.node}, colocation ${p.colocation_id}, ${p.isolated ? 'isolated (shards of its own)' : 'sharing its shards with other tenants'}`);
  if (p.schema !== null) lines.push(`  schema ${p.schema}`);
  lines.push(...table([['table', 'shard', 'node'], ...p.shards.map((s) => [s.table, String(s.shard_id), s.node])], '    '));
  return lines.join('\n');
}
