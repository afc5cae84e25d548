// What the soak saw: every answer counted by status, every write by marker, the non-2xx answers kept for
// classification once the fault windows are known, the windows themselves (gateway down, tenant
// suspended), recovery watches, and invariant violations.
import { errorCode, type Exchange } from './http.js';

export type RequestKind = 'list' | 'search' | 'cursor' | 'post' | 'readback' | 'probe';

export interface RequestRecord extends Exchange {
  readonly tenant: number;
  readonly kind: RequestKind;
}

/** A non-2xx answer (or no answer), kept without its body. */
export interface Failure {
  readonly tenant: number;
  readonly kind: RequestKind;
  readonly start: number;
  readonly end: number;
  /** "503 database_unavailable", "403 tenant_suspended", "connection ECONNREFUSED", "timeout" … */
  readonly label: string;
  readonly status: number | undefined;
}

export interface WriteRecord {
  readonly tenant: number;
  readonly start: number;
  readonly end: number;
  /** 201, another status, or undefined when no answer came (connection error, timeout). */
  readonly status: number | undefined;
  readonly label: string;
  readonly id: string | undefined;
}

export interface Window {
  readonly from: number;
  to: number | undefined;
}

export interface SuspensionWindow extends Window {
  readonly tenant: number;
  readonly via: 'api' | 'sql';
  /** API: the suspension answered; from then until `strictTo` no request of the tenant may be served. */
  strictFrom: number | undefined;
  /** API: when the resume request was sent. */
  strictTo: number | undefined;
}

export interface RecoveryWatch {
  readonly since: number;
  readonly tenants: ReadonlySet<number>;
  /** Tenant → ms from `since` until the end of its first 2xx request started at or after `since`. */
  readonly recovered: Map<number, number>;
}

export type Invariant = 'statuses' | 'writes' | 'foreign-rows' | 'read-back' | 'cursor-pages' | 'suspension' | 'connections' | 'rss' | 'recovery' | 'coverage';

export interface Violation {
  readonly invariant: Invariant;
  readonly at: number;
  readonly detail: string;
}

const DETAILS_PER_INVARIANT = 25;
/** Successes are also counted per tenant in buckets of this length (the report's timeline). */
export const BUCKET_MS = 5000;

export class Ledger {
  readonly counts = new Map<string, number>();
  readonly failures: Failure[] = [];
  readonly writes = new Map<string, WriteRecord>();
  readonly gatewayDown: Window[] = [];
  readonly suspensions: SuspensionWindow[] = [];
  readonly violations: Violation[] = [];
  readonly violationCounts = new Map<Invariant, number>();
  /** Tenant → 2xx answers per BUCKET_MS since the start (by the answer's time). */
  readonly successBuckets = new Map<number, number[]>();
  private readonly watches = new Set<RecoveryWatch>();
  requests = 0;
  successes = 0;
  readBacks = 0;
  crossProbes = 0;
  cursorChains = 0;
  rowsChecked = 0;

  constructor(readonly startedAt: number) {}

  /** Counts one exchange; returns the status for 2xx answers, else records the failure and returns undefined. */
  record(req: RequestRecord): number | undefined {
    this.requests++;
    const { outcome } = req;
    const label =
      outcome.kind === 'answer'
        ? outcome.status >= 200 && outcome.status < 300
          ? String(outcome.status)
          : `${outcome.status} ${errorCode(outcome.body) ?? '-'}`
        : outcome.kind === 'connection'
          ? `no connection (${outcome.error})`
          : 'no answer (client timeout)';
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
    if (outcome.kind === 'answer' && outcome.status >= 200 && outcome.status < 300) {
      this.successes++;
      this.onSuccess(req);
      return outcome.status;
    }
    this.failures.push({
      tenant: req.tenant,
      kind: req.kind,
      start: req.start,
      end: req.end,
      label,
      status: outcome.kind === 'answer' ? outcome.status : undefined,
    });
    return undefined;
  }

  recordWrite(marker: string, req: RequestRecord, id: string | undefined): void {
    const status = req.outcome.kind === 'answer' ? req.outcome.status : undefined;
    const label = req.outcome.kind === 'answer' ? String(req.outcome.status) : req.outcome.kind;
    this.writes.set(marker, { tenant: req.tenant, start: req.start, end: req.end, status, label, id });
  }

  violate(invariant: Invariant, detail: string, at = Date.now()): void {
    const n = (this.violationCounts.get(invariant) ?? 0) + 1;
    this.violationCounts.set(invariant, n);
    if (n <= DETAILS_PER_INVARIANT) this.violations.push({ invariant, at, detail });
  }

  watch(since: number, tenants: Iterable<number>): RecoveryWatch {
    const w: RecoveryWatch = { since, tenants: new Set(tenants), recovered: new Map() };
    this.watches.add(w);
    return w;
  }

  unwatch(w: RecoveryWatch): void {
    this.watches.delete(w);
  }

  /** Ms since the start of the soak, for reports. */
  rel(at: number): number {
    return at - this.startedAt;
  }

  private onSuccess(req: RequestRecord): void {
    const bucket = Math.max(0, Math.floor((req.end - this.startedAt) / BUCKET_MS));
    let buckets = this.successBuckets.get(req.tenant);
    if (!buckets) this.successBuckets.set(req.tenant, (buckets = []));
    while (buckets.length <= bucket) buckets.push(0);
    buckets[bucket] = (buckets[bucket] ?? 0) + 1;
    for (const w of this.watches) {
      if (req.start >= w.since && w.tenants.has(req.tenant) && !w.recovered.has(req.tenant)) {
        w.recovered.set(req.tenant, req.end - w.since);
      }
    }
    // A tenant suspended through the API is refused at once on this instance: a request it sent after
    // the suspension was answered, and answered before the resume was sent, must not be served.
    for (const s of this.suspensions) {
      if (s.tenant !== req.tenant || s.strictFrom === undefined) continue;
      if (req.start >= s.strictFrom && req.end <= (s.strictTo ?? Number.POSITIVE_INFINITY)) {
        this.violate(
          'suspension',
          `tenant ${req.tenant} was served (${req.kind}, ${req.outcome.kind === 'answer' ? req.outcome.status : '?'}) while suspended: request at +${this.rel(req.start)} ms, suspension answered at +${this.rel(s.strictFrom)} ms`,
          req.end,
        );
      }
    }
  }
}

export function overlaps(start: number, end: number, w: Window, graceMs = 0): boolean {
  return start <= (w.to ?? Number.POSITIVE_INFINITY) + graceMs && end >= w.from;
}
