// What must hold before a move touches anything, because the move would otherwise destroy or expose
// data: the two servers are distinct PostgreSQL clusters (roles are cluster-wide, and preparing the
// target removes the tenant's role and rows there), and no tenant role nor the shared role is a member of
// the owner (sql/014's policy lets the owner, and so its members, reach a moving tenant's rows).
import type { ReservedSql, Sql } from 'postgres';
import { Conflict } from '../errors.js';

/**
 * `marker` is the application_name of the source session that holds the move's lock: seen in the
 * target's pg_stat_activity (cluster-wide, and readable by any role) only if both are one cluster.
 */
export async function checkDistinctClusters(lockSession: ReservedSql, target: Sql, marker: string): Promise<void> {
  await lockSession`SELECT set_config('application_name', ${marker}, false)`;
  const [seen] = await target<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${marker}`;
  if ((seen?.n ?? 0) > 0) {
    throw new Conflict('move_same_server', 'the target is on the same PostgreSQL server as the source: a move needs another server');
  }
}

export async function checkNoMembersOfOwner(sql: Sql, role: string): Promise<void> {
  const members = await sql<{ rolname: string }[]>`
    SELECT r.rolname FROM pg_roles r
    WHERE r.rolname IN (${role}, (SELECT value FROM gateway_settings WHERE key = 'authenticator_role'))
      AND r.rolname <> current_user
      AND pg_has_role(r.oid, (SELECT oid FROM pg_roles WHERE rolname = current_user), 'MEMBER')`;
  if (members.length > 0) {
    throw new Conflict('move_unsafe_roles', `role ${members[0]?.rolname} is a member of the owner: a move would let it read the moving tenant's rows`);
  }
}
