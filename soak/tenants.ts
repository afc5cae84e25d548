// The soak's tenants: a few hot ones (traffic well above PROMOTE_RPS, so they earn dedicated pools) and
// more cold ones (a few requests a second, served by the shared pool). Every row the soak writes names
// its tenant: first_name = `<run>.<tenant index>.<sequence>` (the unique marker), last_name =
// `soak-<run>-<tenant index>`, so a row read under the wrong tenant is recognised at once.
import type { AdminClient } from './admin.js';

export type TenantClass = 'hot' | 'cold';

export interface SoakTenant {
  readonly idx: number;
  readonly id: string;
  readonly name: string;
  readonly dbUser: string;
  readonly klass: TenantClass;
  /** Prefix of every marker (first_name) of this tenant's rows. */
  readonly prefix: string;
  /** The last_name of every row of this tenant. */
  readonly lastName: string;
}

export const HOT_TENANTS = 3;
export const COLD_TENANTS = 5;

export async function createTenants(admin: AdminClient, run: string): Promise<SoakTenant[]> {
  const tenants: SoakTenant[] = [];
  for (let idx = 0; idx < HOT_TENANTS + COLD_TENANTS; idx++) {
    const name = `soak-${run}-${idx}`;
    const answer = await admin.until2xx('POST', '/v1/admin/tenants', { name });
    const body = answer.body as { id: string; db_user: string };
    tenants.push({
      idx,
      id: body.id,
      name,
      dbUser: body.db_user,
      klass: idx < HOT_TENANTS ? 'hot' : 'cold',
      prefix: `${run}.${idx}.`,
      lastName: `soak-${run}-${idx}`,
    });
  }
  return tenants;
}

/** The tenant a marker names, if it is one of this run's. */
export function markerTenant(marker: string, run: string): number | undefined {
  const match = /^([a-z0-9]+)\.(\d+)\.\d+$/.exec(marker);
  return match && match[1] === run ? Number(match[2]) : undefined;
}
