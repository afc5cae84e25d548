// One request before the load, to prove both servers answer the same bytes for the same page (same
// query, same JSON), so the comparison is between equals.
import { createHash } from 'node:crypto';
import { USERS_PATH } from './scenarios.js';

export async function probeFirstPage(baseUrl: string, tenantId: string): Promise<string> {
  const res = await fetch(`${baseUrl}${USERS_PATH}`, {
    headers: { 'x-tenant-id': tenantId },
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`probe of ${baseUrl}${USERS_PATH} answered ${res.status}: ${body.slice(0, 300)}`);
  return createHash('sha256').update(body).digest('hex');
}
