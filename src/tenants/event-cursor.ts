// Where the change listener stands in tenant_events, and which events it still has to apply. Event ids
// come from a sequence when a change is made, not when it commits: a change with a lower id can
// become visible after one with a higher id was read. So the cursor keeps a floor (every id at or
// below it was applied or given up on) plus the ids above it that were already applied; each read
// starts at the floor, and an event is applied once however often it is read again. A missing id is
// waited for (its transaction may still commit) for `gapGraceMs`, or until `margin` later ids have
// been applied; after that it is taken as rolled back and the floor moves past it.
//
// The floor only ever moves over ids read from the table, so nothing outside the table (such as a
// forged notification) can move it past the table's real maximum.

export interface EventCursorOptions {
  /** How many ids above a missing one may be applied before it is given up on. */
  readonly margin: number;
  /** How long a missing id is waited for. */
  readonly gapGraceMs: number;
  readonly now?: () => number;
}

export interface EventCursor {
  /** Reads should ask for ids above this. Undefined until `start`. */
  floor(): bigint | undefined;
  /** Positions the cursor at the table's current maximum (events before it are not wanted). */
  start(max: bigint): void;
  /** Of the ids read (ascending), those not applied yet; they count as applied from now on. */
  accept(ids: readonly bigint[]): bigint[];
  /** Ids above the floor still waited for. */
  pendingGaps(): number;
}

export function createEventCursor(options: EventCursorOptions): EventCursor {
  const now = options.now ?? Date.now;
  const margin = BigInt(options.margin);
  let floor: bigint | undefined;
  let highest: bigint | undefined;
  const applied = new Set<bigint>();
  // Missing id -> when it was first noticed missing.
  const gaps = new Map<bigint, number>();

  const advance = (): void => {
    if (floor === undefined || highest === undefined) return;
    // Never track more than `margin` ids: anything older is given up on at once.
    if (highest - floor > margin) {
      const newFloor = highest - margin;
      for (const id of applied) if (id <= newFloor) applied.delete(id);
      for (const id of gaps.keys()) if (id <= newFloor) gaps.delete(id);
      floor = newFloor;
    }
    const t = now();
    while (floor < highest) {
      const next: bigint = floor + 1n;
      if (applied.delete(next)) {
        floor = next;
        continue;
      }
      const since = gaps.get(next);
      if (since === undefined) {
        gaps.set(next, t);
        if (options.gapGraceMs > 0) break;
      } else if (t - since < options.gapGraceMs) {
        break;
      }
      gaps.delete(next);
      floor = next;
    }
    // Note later gaps too, so their grace runs from when they were first seen.
    for (let id = floor + 1n; id < highest; id++) {
      if (!applied.has(id) && !gaps.has(id)) gaps.set(id, t);
    }
  };

  return {
    floor: () => floor,
    start(max) {
      floor = max;
      highest = max;
      applied.clear();
      gaps.clear();
    },
    accept(ids) {
      if (floor === undefined) throw new Error('event cursor used before start');
      const fresh: bigint[] = [];
      for (const id of ids) {
        if (id <= floor || applied.has(id)) continue;
        applied.add(id);
        gaps.delete(id);
        fresh.push(id);
        if (highest === undefined || id > highest) highest = id;
      }
      advance();
      return fresh;
    },
    pendingGaps: () => gaps.size,
  };
}
