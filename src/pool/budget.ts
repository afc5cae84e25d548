// The global connection budget: every connection the gateway may open (catalog, shared pool, each
// dedicated tenant pool at its full size) is reserved here first, so the sum can never exceed
// MAX_CONNECTIONS_TOTAL whatever the traffic. Reservations are released only once the connections
// they covered are closed.
export interface ConnectionBudget {
  readonly total: number;
  reserved(): number;
  available(): number;
  /** Reserves `n` connections if they fit, all or nothing. */
  tryReserve(n: number): boolean;
  release(n: number): void;
}

export function createConnectionBudget(total: number): ConnectionBudget {
  if (!Number.isInteger(total) || total < 1) throw new RangeError('the connection budget must be a positive integer');
  let reserved = 0;
  return {
    total,
    reserved: () => reserved,
    available: () => total - reserved,
    tryReserve(n) {
      if (!Number.isInteger(n) || n < 0) throw new RangeError('a reservation must be a non-negative integer');
      if (reserved + n > total) return false;
      reserved += n;
      return true;
    },
    release(n) {
      if (n > reserved) throw new RangeError(`releasing ${n} connections but only ${reserved} are reserved`);
      reserved -= n;
    },
  };
}
