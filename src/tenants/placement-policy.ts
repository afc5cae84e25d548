// Where a new tenant goes when its creation names no server: the server with the fewest tenants, main
// first among equals, then by name; if that server cannot be reached, the next (src/tenants/catalog.ts). Tenants differ in size, but their count is what the catalog knows
// for certain at creation, and it spreads a fleet of small tenants evenly; a large tenant is placed
// explicitly or moved later (POST /v1/admin/tenants/{id}/move).
import type { Sql } from 'postgres';
import { MAIN_SERVER } from '../servers/catalog.js';

export interface ServerLoad {
  readonly name: string;
  readonly tenants: number;
}

/** The servers in the policy's order of preference (a server that cannot be reached is passed over). */
export function rankServers(loads: readonly ServerLoad[]): string[] {
  return [...loads].sort((a, b) => a.tenants - b.tenants || (rank(a.name) < rank(b.name) ? -1 : rank(a.name) > rank(b.name) ? 1 : 0)).map((load) => load.name);
}

export function pickServer(loads: readonly ServerLoad[]): string {
  return rankServers(loads)[0] ?? MAIN_SERVER;
}

function rank(name: string): string {
  // main sorts before any other name ('\0' is below every character a server name may contain).
  return name === MAIN_SERVER ? '\0' : name;
}

/** Every listed server, the policy's choice first; never empty (main is always listed). */
export async function serverRanking(catalog: Sql): Promise<string[]> {
  const loads = await catalog<ServerLoad[]>`
    SELECT s.name, count(t.id)::int AS tenants
    FROM servers s LEFT JOIN tenants t ON t.server = s.name
    GROUP BY s.name`;
  const ranked = rankServers(loads);
  return ranked.length > 0 ? ranked : [MAIN_SERVER];
}
