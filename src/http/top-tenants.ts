// Which tenants get metric series of their own: at most `slots` (METRICS_TENANT_SERIES), the busiest
// by request rate; every other tenant is counted in one shared "other" series. The label set is
// bounded (slots + 1) whatever the number of tenants, and stable enough for rate():
// - A free slot is taken by a tenant's first request; once all are held, slots change hands only at a
//   ranking (at most every `rankEveryMs`, run after a scrape), and only when a challenger's score is
//   `challengeFactor` times the weakest holder's: tenants of similar traffic do not swap back and forth.
// - Score: the request rate, exponentially decayed with `halfLifeMs`; a tenant seen for the first time
//   is credited its rate over the window (not a history of zeros), so a new heavy tenant wins its slot
//   at the next ranking.
// - A tenant's own series is first scraped at zero (until then, including while it is scraped, its
//   figures still go to "other": `reveal()` after each scrape ends that), and is scraped a last time
//   with its final values before it disappears (slots change hands after a scrape). "other" only ever
//   grows. So every increase is scraped in exactly one series: rate() of each series is right and a
//   sum over tenants is exact (a series that comes back is a counter reset, which rate() handles).
// The request path costs one Map look-up (a holder), or two and an addition (a candidate): no sorting
// and no allocation except for a tenant first seen in a window, and those are capped by `candidates`.
// Tenants arriving after the cap within one window are not ranked in that window; a busy tenant is
// seen early in every window, so only a tenant with a few requests a minute can be missed.

export interface TopTenantsOptions<S> {
  /** Tenants that may hold series of their own (N); 0 counts everyone in "other". */
  readonly slots: number;
  /** The series of a tenant that gets a slot (fresh, counting from zero). */
  readonly open: (tenantId: string) => S;
  /** The series of everyone without a slot; never closed. */
  readonly other: S;
  /** Called when a tenant loses its slot: its series is to disappear. */
  readonly close?: (tenantId: string, series: S) => void;
  readonly now: () => number;
  /** Slots change hands at most this often (default 60 s). */
  readonly rankEveryMs?: number;
  /** Half-life of a tenant's remembered rate (default 5 min). */
  readonly halfLifeMs?: number;
  /** Tenants without a slot that are counted and remembered between rankings (default max(1000, 10 × slots)). */
  readonly candidates?: number;
  /** How much busier than the weakest holder a challenger must be (default 1.5). */
  readonly challengeFactor?: number;
}

export interface TopTenants<S> {
  /** Counts one request of this tenant; returns the series it is to be recorded in (its own once shown, else other). */
  hit(tenantId: string): S;
  /**
   * The series this tenant's figures go to, without counting a request. Takes a free slot like hit()
   * (a statement runs before its request is answered and counted).
   */
  seriesOf(tenantId: string): S;
  /** Hands slots to the busiest tenants if a ranking is due; returns whether it ran. Call after a scrape. */
  rank(): boolean;
  /** From now on, holders' figures go to their own series: call after each scrape, before rank(). */
  reveal(): void;
  /** Tenants holding a slot, and their series (shown or not: one not shown yet is at zero). */
  holders(): IterableIterator<[string, S]>;
  /** Slot hand-overs so far (a tenant taking a slot, free or not). */
  changes(): number;
}

interface Holder<S> {
  readonly series: S;
  /** Scraped once (at zero): figures go to its own series from now on, to "other" before. */
  shown: boolean;
  /** Requests since the last ranking. */
  hits: number;
  /** Decayed requests per second; NaN until its first ranking. */
  score: number;
}

interface Candidate {
  hits: number;
  score: number;
}

export function createTopTenants<S>(options: TopTenantsOptions<S>): TopTenants<S> {
  const { slots, open, other, now } = options;
  const rankEveryMs = options.rankEveryMs ?? 60_000;
  const halfLifeMs = options.halfLifeMs ?? 300_000;
  const capacity = options.candidates ?? Math.max(1000, 10 * slots);
  const factor = options.challengeFactor ?? 1.5;
  if (!Number.isInteger(slots) || slots < 0) throw new RangeError('slots must be a whole number, 0 or more');
  if (!(rankEveryMs > 0) || !(halfLifeMs > 0) || !(capacity >= 1) || !(factor >= 1)) {
    throw new RangeError('rankEveryMs and halfLifeMs must be positive, candidates at least 1, challengeFactor at least 1');
  }
  const holders = new Map<string, Holder<S>>();
  const candidates = new Map<string, Candidate>();
  let lastRank = now();
  let changes = 0;

  const blend = (score: number, rate: number, keep: number): number => (Number.isNaN(score) ? rate : score * keep + rate * (1 - keep));

  const take = (tenantId: string, hits: number, score: number): Holder<S> => {
    candidates.delete(tenantId);
    const holder: Holder<S> = { series: open(tenantId), shown: false, hits, score };
    holders.set(tenantId, holder);
    changes++;
    return holder;
  };

  return {
    hit(tenantId) {
      const holder = holders.get(tenantId);
      if (holder !== undefined) {
        holder.hits++;
        return holder.shown ? holder.series : other;
      }
      if (holders.size < slots) {
        take(tenantId, 1, Number.NaN);
        return other;
      }
      const candidate = candidates.get(tenantId);
      if (candidate !== undefined) candidate.hits++;
      else if (candidates.size < capacity) candidates.set(tenantId, { hits: 1, score: Number.NaN });
      return other;
    },

    seriesOf(tenantId) {
      const holder = holders.get(tenantId);
      if (holder !== undefined) return holder.shown ? holder.series : other;
      if (holders.size < slots) take(tenantId, 0, Number.NaN);
      return other;
    },

    reveal() {
      for (const holder of holders.values()) holder.shown = true;
    },

    rank() {
      const at = now();
      const elapsed = at - lastRank;
      if (elapsed < rankEveryMs) return false;
      lastRank = at;
      const keep = Math.pow(0.5, elapsed / halfLifeMs);
      const perSecond = 1000 / elapsed;
      for (const holder of holders.values()) {
        holder.score = blend(holder.score, holder.hits * perSecond, keep);
        holder.hits = 0;
      }
      for (const candidate of candidates.values()) {
        // Not seen this window: its memory fades, it is not credited a zero rate as a first sighting.
        candidate.score = candidate.hits === 0 ? candidate.score * keep : blend(candidate.score, candidate.hits * perSecond, keep);
        candidate.hits = 0;
      }
      const challengers = [...candidates].sort((a, b) => b[1].score - a[1].score);
      const weakest = [...holders].sort((a, b) => a[1].score - b[1].score);
      for (let i = 0; i < challengers.length && i < weakest.length; i++) {
        const [id, challenger] = challengers[i] as [string, Candidate];
        const [heldBy, holder] = weakest[i] as [string, Holder<S>];
        if (!(challenger.score > 0 && challenger.score > holder.score * factor)) break;
        holders.delete(heldBy);
        options.close?.(heldBy, holder.series);
        take(id, 0, challenger.score);
        // The tenant that lost its slot is remembered as a candidate, so it can win it back.
        candidates.set(heldBy, { hits: 0, score: holder.score });
      }
      // Keep the busiest half of the remembered candidates, leaving room for tenants new next window.
      if (candidates.size > capacity / 2) {
        const kept = [...candidates].sort((a, b) => b[1].score - a[1].score).slice(0, Math.floor(capacity / 2));
        candidates.clear();
        for (const [id, candidate] of kept) candidates.set(id, candidate);
      }
      return true;
    },

    holders: function* () {
      for (const [id, holder] of holders) yield [id, holder.series];
    },

    changes: () => changes,
  };
}
