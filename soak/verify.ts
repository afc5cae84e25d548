// The checks made once the traffic has stopped: every write answered 201 is in the database exactly once,
// under its tenant (read with the superuser connection, by marker), nothing was written that was not
// asked for, and every non-2xx answer is one the faults explain.
import type { Sql } from 'postgres';
import { overlaps, type Failure, type Ledger } from './ledger.js';
import { FEED_LIMIT_MS } from './settings.js';
import { markerTenant, type SoakTenant } from './tenants.js';

export interface WriteFigures {
  readonly attempted: number;
  readonly acknowledged: number;
  /** Acknowledged 201 and found exactly once, under its tenant, with the id it was answered with. */
  readonly confirmed: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly wrongTenant: number;
  /** Answered 5xx or not at all (gateway killed): either outcome is allowed here. */
  readonly ambiguous: number;
  /** Of those, how many were nevertheless committed. */
  readonly ambiguousCommitted: number;
  /** Rows of this run the soak never asked for, or asked for and was refused (4xx, or 2xx other than 201). */
  readonly phantom: number;
  readonly rowsInDatabase: number;
}

export async function verifyWrites(sql: Sql, run: string, tenants: readonly SoakTenant[], ledger: Ledger): Promise<WriteFigures> {
  type Row = { tenant_id: string; id: string; first_name: string; last_name: string };
  const rows = await sql<Row[]>`
    SELECT tenant_id::text, id::text, first_name, last_name FROM users WHERE first_name LIKE ${`${run}.%`}`;
  const byMarker = new Map<string, Row[]>();
  for (const row of rows) {
    const list = byMarker.get(row.first_name) ?? [];
    list.push(row);
    byMarker.set(row.first_name, list);
  }
  let acknowledged = 0;
  let confirmed = 0;
  let lost = 0;
  let duplicated = 0;
  let wrongTenant = 0;
  let ambiguous = 0;
  let ambiguousCommitted = 0;
  let phantom = 0;
  for (const [marker, write] of ledger.writes) {
    const found = byMarker.get(marker) ?? [];
    const tenant = tenants[write.tenant];
    for (const row of found) {
      if (row.tenant_id !== tenant?.id || row.last_name !== tenant.lastName) {
        wrongTenant++;
        ledger.violate('writes', `write ${marker} of tenant ${write.tenant} is stored as ${JSON.stringify(row)}`);
      }
    }
    if (found.length > 1) {
      duplicated++;
      ledger.violate('writes', `write ${marker} (answered ${write.label}) is in the database ${found.length} times`);
    }
    if (write.status === 201) {
      acknowledged++;
      if (found.length === 0) {
        lost++;
        ledger.violate(
          'writes',
          `write ${marker} of tenant ${write.tenant} was answered 201 (id ${write.id}) at +${ledger.rel(write.end)} ms but is not in the database`,
        );
      } else if (found.length === 1 && found[0]?.id === write.id && found[0]?.tenant_id === tenant?.id) {
        confirmed++;
      } else if (found.length === 1) {
        ledger.violate('writes', `write ${marker} was answered with id ${write.id} but stored as ${JSON.stringify(found[0])}`);
      }
    } else if (write.status === undefined || write.status >= 500) {
      // No answer, or a server error: the client cannot know; either outcome is consistent (a 500 is a
      // failure of its own, under statuses).
      ambiguous++;
      if (found.length > 0) ambiguousCommitted++;
    } else if (found.length > 0) {
      phantom++;
      ledger.violate('writes', `write ${marker} was answered ${write.label} but is in the database`);
    }
  }
  for (const [marker, found] of byMarker) {
    if (ledger.writes.has(marker)) continue;
    phantom += found.length;
    ledger.violate('writes', `row ${JSON.stringify(found[0])} (tenant ${markerTenant(marker, run)}) was never written by the soak`);
  }
  return {
    attempted: ledger.writes.size,
    acknowledged,
    confirmed,
    lost,
    duplicated,
    wrongTenant,
    ambiguous,
    ambiguousCommitted,
    phantom,
    rowsInDatabase: rows.length,
  };
}

export interface StatusFigures {
  /** Non-2xx outcomes the faults explain, by label. */
  readonly expected: Record<string, number>;
  /** Those that no fault explains, by label (each is also a violation). */
  readonly unexpected: Record<string, number>;
  /** 503/504 answered outside every fault (from its start to its recovery). */
  readonly unavailableInCalm: number;
  /** The first few of those, to say when they happened. */
  readonly unavailableInCalmSamples: readonly string[];
  /** Connection errors and timeouts inside a gateway-down window (killed until ready again). */
  readonly gatewayDown: number;
}

/** Whether a non-2xx outcome is one of the allowed kinds, given the windows now known. */
export function classifyFailures(ledger: Ledger, faultWindows: readonly { from: number; to: number | undefined }[]): StatusFigures {
  const expected: Record<string, number> = {};
  const unexpected: Record<string, number> = {};
  let unavailableInCalm = 0;
  let gatewayDown = 0;
  const unavailableInCalmSamples: string[] = [];
  const allow = (f: Failure): boolean => {
    if (f.status === undefined) {
      const down = ledger.gatewayDown.some((w) => overlaps(f.start, f.end, w, 250));
      if (down) gatewayDown++;
      return down;
    }
    if (f.status === 503 || f.status === 504) {
      if (!faultWindows.some((w) => overlaps(f.start, f.end, w))) {
        unavailableInCalm++;
        if (unavailableInCalmSamples.length < 10)
          unavailableInCalmSamples.push(`tenant ${f.tenant} ${f.kind}: ${f.label} at +${ledger.rel(f.start)}…+${ledger.rel(f.end)} ms`);
      }
      return true;
    }
    if (f.label === '403 tenant_suspended') {
      return ledger.suspensions.some((s) => s.tenant === f.tenant && overlaps(f.start, f.end, s, s.via === 'sql' ? FEED_LIMIT_MS : 0));
    }
    return false;
  };
  for (const f of ledger.failures) {
    if (allow(f)) {
      expected[f.label] = (expected[f.label] ?? 0) + 1;
    } else {
      unexpected[f.label] = (unexpected[f.label] ?? 0) + 1;
      ledger.violate(
        'statuses',
        `tenant ${f.tenant} ${f.kind}: ${f.label} at +${ledger.rel(f.start)}…+${ledger.rel(f.end)} ms, outside any fault that explains it`,
        f.end,
      );
    }
  }
  return { expected, unexpected, unavailableInCalm, unavailableInCalmSamples, gatewayDown };
}
