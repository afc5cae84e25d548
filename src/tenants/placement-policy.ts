// Where a new tenant goes when its creation names no server: the server with the fewest tenants, main
// first among equals, then by name. Tenants differ in size, but their count is what the catalog knows
// for certain at creation, and it spreads a fleet of small tenants evenly; a large tenant is placed
// explicitly or moved later (POST /v1/admin/tenants/{id}/move).
import type { Sql } from 'postgres';
import { MAIN_SERVER } from '../servers/catalog.js';

export interface ServerLoad {
  readonly name: string;
  readonly tenants: number;
}

export function pickServer(loads: readonly ServerLoad[]): string {
  let best: ServerLoad | undefined;
  for (const load of loads) {
    if (best === undefined || load.tenants < best.tenants || (load.tenants === best.tenants && rank(load.name) < rank(best.name))) {
      best = load;
    }
  }
  return best?.name ?? MAIN_SERVER;
}

function rank(name: string): string {
  // main sorts before any other name ('\0' is below every character a server name may contain).
  return name === MAIN_SERVER ? '\0' : name;
}

export async function chooseServer(catalog: Sql): Promise<string> {
  const loads = await catalog<ServerLoad[]>`
    SELECT s.name, count(t.id)::int AS tenants
    FROM servers s LEFT JOIN tenants t ON t.server = s.name
    GROUP BY s.name`;
  return pickServer(loads);
}
