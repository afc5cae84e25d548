// The mixed traffic: per tenant, workers that list users (plain, sorted, searched, date-filtered), walk
// keyset cursors, POST users with unique markers and read each acknowledged write back under its own
// tenant (exactly that row) and under another tenant (nothing). Hot tenants run two workers with a short
// pause (well above PROMOTE_RPS: dedicated pools); cold tenants one worker at a few requests a second
// (the shared pool). Every row any GET returns must carry the requesting tenant's marker.
import { setMaxListeners } from 'node:events';
import type { HttpClient } from './http.js';
import type { Ledger, RequestKind, RequestRecord } from './ledger.js';
import type { SoakTenant } from './tenants.js';
import { delay } from './time.js';

const HOT_WORKERS = 2;
const HOT_PAUSE_MS = 10;
const COLD_WORKERS = 1;
const COLD_PAUSE_MS = 250;
/** After an error, pause a little: a gateway that is down answers at once, and we must not spin. */
const ERROR_PAUSE_MS = 100;
/** A write not yet read back is tried again this many times (503s during faults). */
const READ_BACK_ATTEMPTS = 50;

const SORT_COLUMNS = ['id', 'first_name', 'last_name', 'confirmed', 'created_at', 'updated_at'] as const;

interface PendingReadBack {
  readonly marker: string;
  readonly id: string;
  attempts: number;
}

interface UserRow {
  readonly id: string;
  readonly first_name: string;
  readonly last_name: string;
}

interface Page {
  readonly records: UserRow[];
  readonly next_cursor: string | null;
}

export interface Traffic {
  /** Stops the workers and waits for the requests in flight. */
  stop(): Promise<void>;
  /** Writes acknowledged but not yet read back (each is still checked in the database at the end). */
  pendingReadBacks(): number;
}

export function startTraffic(client: HttpClient, tenants: readonly SoakTenant[], ledger: Ledger): Traffic {
  const abort = new AbortController();
  // Every worker's pause listens to it.
  setMaxListeners(256, abort.signal);
  const readBacks = new Map<number, PendingReadBack[]>(tenants.map((t) => [t.idx, []]));
  const sequence = new Map<number, number>(tenants.map((t) => [t.idx, 0]));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;

  const send = async (
    tenant: SoakTenant,
    kind: RequestKind,
    method: 'GET' | 'POST',
    path: string,
    json?: unknown,
  ): Promise<{ req: RequestRecord; status: number | undefined; body: string }> => {
    const exchange = await client.send(method, path, { 'x-tenant-id': tenant.id }, json);
    const req: RequestRecord = { ...exchange, tenant: tenant.idx, kind };
    const status = ledger.record(req);
    if (status === undefined) await delay(ERROR_PAUSE_MS, abort.signal);
    return { req, status, body: exchange.outcome.kind === 'answer' ? exchange.outcome.body : '' };
  };

  /** Parses a 200 page and checks that every row is the requesting tenant's. */
  const page = (tenant: SoakTenant, kind: RequestKind, body: string, at: number): Page | undefined => {
    let parsed: Page;
    try {
      parsed = JSON.parse(body) as Page;
      if (!Array.isArray(parsed.records)) throw new Error('no records');
    } catch {
      ledger.violate('statuses', `tenant ${tenant.idx} ${kind}: a 200 whose body is not a page: ${body.slice(0, 200)}`, at);
      return undefined;
    }
    for (const row of parsed.records) {
      ledger.rowsChecked++;
      if (!row.first_name.startsWith(tenant.prefix) || row.last_name !== tenant.lastName) {
        ledger.violate('foreign-rows', `tenant ${tenant.idx} (${kind}) got the row ${JSON.stringify(row)}`, at);
      }
    }
    return parsed;
  };

  const list = async (tenant: SoakTenant): Promise<void> => {
    const q = new URLSearchParams({
      page_size: String(1 + Math.floor(Math.random() * 20)),
      sort_column: pick(SORT_COLUMNS),
      sort_direction: pick(['ascending', 'descending']),
      count: pick(['capped', 'capped', 'none', 'exact']),
    });
    if (Math.random() < 0.3) q.set('page', String(1 + Math.floor(Math.random() * 3)));
    if (Math.random() < 0.3) {
      q.set('date_column', pick(['created_at', 'updated_at']));
      q.set('date_after', new Date(Date.now() - 60_000).toISOString());
    }
    const { req, status, body } = await send(tenant, 'list', 'GET', `/v1/internal/users?${q}`);
    if (status === 200) page(tenant, 'list', body, req.end);
  };

  const search = async (tenant: SoakTenant): Promise<void> => {
    const q =
      Math.random() < 0.7
        ? new URLSearchParams({
            search: `${tenant.prefix}${Math.floor(Math.random() * 10)}`,
            search_columns: 'first_name',
            sort_column: 'first_name',
            sort_direction: 'ascending',
          })
        : new URLSearchParams({ search: tenant.lastName.toUpperCase(), search_columns: 'last_name', page_size: '20' });
    const { req, status, body } = await send(tenant, 'search', 'GET', `/v1/internal/users?${q}`);
    if (status === 200) page(tenant, 'search', body, req.end);
  };

  const cursor = async (tenant: SoakTenant): Promise<void> => {
    const sort = { sort_column: pick(SORT_COLUMNS), sort_direction: pick(['ascending', 'descending']) };
    const seen = new Set<string>();
    let next: string | null = null;
    for (let pageNo = 0; pageNo < 4; pageNo++) {
      const q: URLSearchParams = new URLSearchParams({ page_size: '5', count: 'none' });
      if (next === null) {
        q.set('sort_column', sort.sort_column);
        q.set('sort_direction', sort.sort_direction);
      } else {
        q.set('cursor', next);
        // Repeating the sort is allowed (it must agree with the cursor's); do it on some pages.
        if (Math.random() < 0.5) {
          q.set('sort_column', sort.sort_column);
          q.set('sort_direction', sort.sort_direction);
        }
      }
      const { req, status, body } = await send(tenant, 'cursor', 'GET', `/v1/internal/users?${q}`);
      if (status !== 200) return;
      const got = page(tenant, 'cursor', body, req.end);
      if (!got) return;
      for (const row of got.records) {
        if (seen.has(row.id)) ledger.violate('cursor-pages', `tenant ${tenant.idx}: row ${row.id} on two cursor pages (${JSON.stringify(sort)})`, req.end);
        seen.add(row.id);
      }
      next = got.next_cursor;
      if (next === null) break;
    }
    ledger.cursorChains++;
  };

  const post = async (tenant: SoakTenant): Promise<void> => {
    const seq = (sequence.get(tenant.idx) ?? 0) + 1;
    sequence.set(tenant.idx, seq);
    const marker = `${tenant.prefix}${seq}`;
    const { req, status, body } = await send(tenant, 'post', 'POST', '/v1/internal/users', {
      first_name: marker,
      last_name: tenant.lastName,
    });
    let id: string | undefined;
    if (status === 201) {
      try {
        const row = JSON.parse(body) as UserRow;
        id = row.id;
        if (row.first_name !== marker || row.last_name !== tenant.lastName) {
          ledger.violate('foreign-rows', `tenant ${tenant.idx}: POST ${marker} answered with ${body.slice(0, 200)}`, req.end);
        }
      } catch {
        ledger.violate('statuses', `tenant ${tenant.idx}: a 201 whose body is not a user: ${body.slice(0, 200)}`, req.end);
      }
      if (id !== undefined) readBacks.get(tenant.idx)?.push({ marker, id, attempts: 0 });
    } else if (status !== undefined) {
      ledger.violate('statuses', `tenant ${tenant.idx}: POST answered ${status}`, req.end);
    }
    ledger.recordWrite(marker, req, id);
  };

  /** An acknowledged write, read back under its own tenant (exactly it) and another one (nothing). */
  const readBack = async (tenant: SoakTenant): Promise<void> => {
    const queue = readBacks.get(tenant.idx) ?? [];
    const item = queue.shift();
    if (!item) return;
    const q = new URLSearchParams({ first_name: item.marker, count: 'none' });
    const own = await send(tenant, 'readback', 'GET', `/v1/internal/users?${q}`);
    if (own.status !== 200) {
      if (++item.attempts < READ_BACK_ATTEMPTS) queue.push(item);
      return;
    }
    const got = page(tenant, 'readback', own.body, own.req.end);
    if (got && (got.records.length !== 1 || got.records[0]?.id !== item.id)) {
      ledger.violate(
        'read-back',
        `tenant ${tenant.idx}: write ${item.marker} (id ${item.id}, answered 201) read back as ${JSON.stringify(got.records)}`,
        own.req.end,
      );
    }
    ledger.readBacks++;
    // Half the read-backs also probe another tenant (all of them would push cold tenants' rates up to
    // PROMOTE_RPS).
    if (Math.random() < 0.5) return;
    const other = pick(tenants.filter((t) => t.idx !== tenant.idx));
    const probe = await send(other, 'probe', 'GET', `/v1/internal/users?${q}`);
    if (probe.status === 200) {
      // page() flags any row of another tenant; the marker's row would be one.
      page(other, 'probe', probe.body, probe.req.end);
      ledger.crossProbes++;
    }
  };

  const worker = async (tenant: SoakTenant, pauseMs: number): Promise<void> => {
    while (!abort.signal.aborted) {
      const r = Math.random();
      // Each write is followed by a read-back (the oldest pending one), so they never fall behind.
      if (r < 0.3) {
        await post(tenant);
        if ((readBacks.get(tenant.idx)?.length ?? 0) > 0) await readBack(tenant);
      } else if (r < 0.72) await list(tenant);
      else if (r < 0.9) await search(tenant);
      else await cursor(tenant);
      await delay(pauseMs, abort.signal);
    }
  };

  const running: Promise<void>[] = [];
  for (const tenant of tenants) {
    const [workers, pause] = tenant.klass === 'hot' ? [HOT_WORKERS, HOT_PAUSE_MS] : [COLD_WORKERS, COLD_PAUSE_MS];
    for (let i = 0; i < workers; i++) running.push(worker(tenant, pause));
  }

  return {
    async stop() {
      abort.abort();
      await Promise.all(running);
      // Writes still waiting for their read-back (503s of the last fault): do them now, within a bound.
      // Whatever is left is still checked in the database.
      const deadline = Date.now() + 30_000;
      for (const tenant of tenants) {
        const queue = readBacks.get(tenant.idx) ?? [];
        let budget = queue.length * 3;
        while (queue.length > 0 && budget-- > 0 && Date.now() < deadline) await readBack(tenant);
      }
    },
    pendingReadBacks: () => [...readBacks.values()].reduce((n, q) => n + q.length, 0),
  };
}
