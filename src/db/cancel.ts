// Cancels a statement through postgres.js: a query not sent yet is taken off the queue; one that is
// running gets a PostgreSQL cancel request (a new connection carrying the backend's key), so the server
// stops working on it and a write that had not committed rolls back. The driver (as patched,
// patches/postgres+3.4.9.patch) returns the cancel request's promise: a cancel that cannot reach the
// server (the very outage that made the statement late) must not become an unhandled rejection.
import type { PendingQuery, Row } from 'postgres';

export function cancelStatement(query: PendingQuery<Row[]>): void {
  const request: unknown = (query as unknown as { cancel(): unknown }).cancel();
  if (request instanceof Promise) request.catch(() => undefined);
}
