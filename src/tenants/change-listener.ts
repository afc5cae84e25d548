// Keeps this instance coherent with the fleet: LISTENs for tenant changes (sql/003: a trigger records
// each change in tenant_events and NOTIFYs on commit) and reports them. Its connection is supervised
// here rather than by postgres.js, whose own re-listen after a dropped connection gives up silently if
// the database is still down. After every (re)connect it replays the events it missed from the table;
// when those may have been pruned, it asks for a full resync instead.
import postgres, { type Sql } from 'postgres';
import { errorFacts, type Logger } from '../log.js';

export type ChangeKind = 'created' | 'credentials' | 'status' | 'settings' | 'deleted';

export interface TenantChange {
  readonly tenantId: string;
  readonly kind: ChangeKind;
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
const REPLAY_MARGIN = 1000n;
const MAX_RETRY_MS = 5000;

export async function startChangeListener(catalog: Sql, options: ChangeListenerOptions): Promise<ChangeListener> {
  let lastEventId: bigint | undefined;
  // Where replay starts after a reconnect: fixed when the connection drops, so notifications arriving
  // during the catch-up cannot move it past events still to be replayed.
  let replayFrom: bigint | undefined;
  let listening = false;
  let stopped = false;
  let retryMs = options.retryMs ?? 100;
  let timer: NodeJS.Timeout | undefined;

  const deliver = (payload: string): void => {
    try {
      const event = JSON.parse(payload) as { id: number | string; tenant_id: string; kind: ChangeKind };
      const id = BigInt(event.id);
      if (lastEventId === undefined || id > lastEventId) lastEventId = id;
      options.onChange({ tenantId: event.tenant_id, kind: event.kind });
    } catch (err) {
      options.logger.warn({ err: errorFacts(err) }, 'ignoring a malformed tenant change notification');
    }
  };

  // onnotify is the option postgres.js's own listen() builds on; it is missing from its typings.
  const connectionOptions = {
    max: 1,
    idle_timeout: null,
    max_lifetime: null,
    connect_timeout: options.connectTimeoutSeconds,
    onnotice: () => {},
    connection: { application_name: 'tenantgate-listener' },
    onnotify: (channel: string, payload: string) => {
      if (channel === CHANNEL) deliver(payload);
    },
    onclose: () => {
      if (!listening || stopped) return;
      listening = false;
      replayFrom = lastEventId;
      options.logger.warn('tenant change listener disconnected; reconnecting');
      schedule();
    },
  };
  const connection = postgres(options.databaseUrl, connectionOptions as unknown as postgres.Options<Record<string, never>>);

  /**
   * Replays what was missed since the connection dropped, or asks for a full resync when that cannot
   * be known. Event ids are assigned before commit, so a lower id can commit after a higher one was
   * seen: replay starts REPLAY_MARGIN ids earlier. Replaying an event twice is harmless (it only
   * forgets cached state).
   */
  const resync = async (): Promise<void> => {
    const [bounds] = await catalog<{ min: string | null; max: string | null }[]>`
      SELECT min(id)::text AS min, max(id)::text AS max FROM tenant_events`;
    const max = bounds?.max == null ? 0n : BigInt(bounds.max);
    const from = replayFrom;
    if (from === undefined) {
      if (lastEventId === undefined || max > lastEventId) lastEventId = max;
      return;
    }
    const min = bounds?.min == null ? undefined : BigInt(bounds.min);
    if (min !== undefined && min > from + 1n) {
      replayFrom = undefined;
      options.onResyncAll();
      return;
    }
    const start = from > REPLAY_MARGIN ? from - REPLAY_MARGIN : 0n;
    const missed = await catalog<{ id: string; tenant_id: string; kind: ChangeKind }[]>`
      SELECT id::text, tenant_id, kind FROM tenant_events WHERE id > ${start.toString()}::bigint ORDER BY id`;
    for (const event of missed) deliver(JSON.stringify(event));
    replayFrom = undefined;
  };

  const connect = async (): Promise<void> => {
    // LISTEN first, then read the high-water mark: nothing committed in between can be missed.
    await connection.unsafe(`LISTEN ${CHANNEL}`);
    listening = true;
    await resync();
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
      await connection.end({ timeout: 1 });
    },
  };
}
