// Keeps this instance coherent with the fleet: LISTENs for tenant changes (sql/003, sql/006: a trigger
// records each change in tenant_events and NOTIFYs on commit) and reports them. A notification is only
// a wake-up and carries nothing: what changed is always read from tenant_events, which only the
// catalog's owner can write, so a role that can NOTIFY can at most cause a read. Its connection is
// supervised here rather than by postgres.js, whose own re-listen after a dropped connection gives up
// silently if the database is still down. After every (re)connect it reads the events it missed; when
// those may have been pruned, it asks for a full resync instead.
import postgres, { type Sql } from 'postgres';
import { connectionOptions } from '../db/connection-options.js';
import { errorFacts, type Logger } from '../log.js';
import { createEventCursor } from './event-cursor.js';

export type ChangeKind = 'created' | 'credentials' | 'status' | 'settings' | 'placement' | 'deleted';

export interface TenantChange {
  readonly tenantId: string;
  readonly kind: ChangeKind;
  /** A placement change's placement_version (sql/013); undefined for other kinds. */
  readonly version?: number;
}

export interface ChangeListenerOptions {
  readonly databaseUrl: string;
  readonly connectTimeoutSeconds: number;
  readonly onChange: (change: TenantChange) => void;
  /** Events may have been missed beyond replay: forget everything cached. */
  readonly onResyncAll: () => void;
  readonly logger: Logger;
  /** First retry delay after a lost connection; doubles up to 5 s. */
  readonly retryMs?: number;
}

export interface ChangeListener {
  /** True while the LISTEN is in place. */
  listening(): boolean;
  stop(): Promise<void>;
}

const CHANNEL = 'tenantgate_tenants';
const KINDS: ReadonlySet<string> = new Set<ChangeKind>(['created', 'credentials', 'status', 'settings', 'placement', 'deleted']);
/** Events read per query; a longer backlog is read in several. */
const BATCH = 500;
/** A missing event id is waited for this long (its transaction may still commit), or until this many later ids were applied. */
const GAP_GRACE_MS = 10_000;
const GAP_MARGIN = 1000;
const MAX_RETRY_MS = 5000;

interface EventRow {
  id: string;
  tenant_id: string;
  kind: string;
  version: string | null;
}

export async function startChangeListener(catalog: Sql, options: ChangeListenerOptions): Promise<ChangeListener> {
  const cursor = createEventCursor({ margin: GAP_MARGIN, gapGraceMs: GAP_GRACE_MS });
  let listening = false;
  let stopped = false;
  let retryMs = options.retryMs ?? 100;
  let timer: NodeJS.Timeout | undefined;
  let retryRead: NodeJS.Timeout | undefined;
  // One read at a time; wake-ups during a read ask for one more read after it.
  let reading: Promise<void> | undefined;
  let readAgain = false;

  const readNewEvents = async (): Promise<void> => {
    for (;;) {
      const floor = cursor.floor();
      if (floor === undefined) return;
      const rows = await catalog<EventRow[]>`
        SELECT id::text, tenant_id::text, kind, version::text FROM tenant_events
        WHERE id > ${floor.toString()}::bigint ORDER BY id LIMIT ${BATCH}`;
      const byId = new Map(rows.map((row) => [BigInt(row.id), row]));
      for (const id of cursor.accept([...byId.keys()])) {
        const row = byId.get(id);
        if (!row) continue;
        if (!KINDS.has(row.kind)) {
          options.logger.warn({ eventId: row.id }, 'ignoring a tenant change of unknown kind');
          continue;
        }
        const kind = row.kind as ChangeKind;
        options.onChange(row.version === null ? { tenantId: row.tenant_id, kind } : { tenantId: row.tenant_id, kind, version: Number(row.version) });
      }
      if (rows.length < BATCH) return;
    }
  };

  const wake = (): void => {
    if (stopped || cursor.floor() === undefined) return;
    if (reading) {
      readAgain = true;
      return;
    }
    reading = (async () => {
      try {
        do {
          readAgain = false;
          await readNewEvents();
        } while (readAgain && !stopped);
      } catch (err) {
        // The catalog is unreachable or busy: try again shortly; a reconnect also reads.
        options.logger.warn({ err: errorFacts(err) }, 'could not read tenant changes; retrying');
        clearTimeout(retryRead);
        retryRead = setTimeout(wake, 1000);
        retryRead.unref();
      } finally {
        reading = undefined;
      }
    })();
  };

  const connection = postgres(
    options.databaseUrl,
    connectionOptions({
      max: 1,
      keepOpen: true,
      applicationName: 'tenantgate-listener',
      connectTimeoutSeconds: options.connectTimeoutSeconds,
      // It only ever runs LISTEN.
      statementTimeoutMs: 10_000,
      onnotify: (channel) => {
        if (channel === CHANNEL) wake();
      },
      onclose: () => {
        if (!listening || stopped) return;
        listening = false;
        options.logger.warn('tenant change listener disconnected; reconnecting');
        schedule();
      },
    }),
  );

  /** Reads what was missed while disconnected, or asks for a full resync when that cannot be known. */
  const catchUp = async (): Promise<void> => {
    const [bounds] = await catalog<{ min: string | null; max: string | null }[]>`
      SELECT min(id)::text AS min, max(id)::text AS max FROM tenant_events`;
    const max = bounds?.max == null ? 0n : BigInt(bounds.max);
    const min = bounds?.min == null ? undefined : BigInt(bounds.min);
    const floor = cursor.floor();
    if (floor === undefined) {
      // First start: nothing is cached yet, so nothing before now matters.
      cursor.start(max);
      return;
    }
    // Pruned past our floor (a long outage), or the table was emptied and its ids restarted: what
    // happened in between cannot be known.
    if ((min !== undefined && min > floor + 1n) || max < floor) {
      cursor.start(max);
      options.onResyncAll();
      return;
    }
    // Through the same single reader as wake-ups; a failed read is retried by it.
    wake();
    await reading;
  };

  const connect = async (): Promise<void> => {
    // LISTEN first, then read: nothing committed in between can be missed.
    await connection.unsafe(`LISTEN ${CHANNEL}`);
    listening = true;
    await catchUp();
    retryMs = options.retryMs ?? 100;
  };

  const schedule = (): void => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      connect().catch((err: unknown) => {
        listening = false;
        options.logger.warn({ err: errorFacts(err), retryMs }, 'tenant change listener could not reconnect; retrying');
        retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
        schedule();
      });
    }, retryMs);
    timer.unref();
  };

  await connect();
  return {
    listening: () => listening,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(retryRead);
      await connection.end({ timeout: 1 });
      await reading;
    },
  };
}
