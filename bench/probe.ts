// One request before the load, to prove both servers answer the same bytes for the same page (same
// query, same JSON), so the comparison is between equals.
import { createHash } from 'node:crypto';
import type { ProbeRequest } from './scenarios.js';

/** sha256 of the answer's body; a non-200 answer is an error. */
export async function probe(baseUrl: string, request: ProbeRequest): Promise<string> {
  const res = await fetch(`${baseUrl}${request.path}`, {
    headers: { 'x-tenant-id': request.tenantId },
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`probe of ${baseUrl}${request.path} answered ${res.status}: ${body.slice(0, 300)}`);
  return createHash('sha256').update(body).digest('hex');
}
