// Validates PATCH /v1/admin/tenants/{id}: {"rate_limit_rps": n|null, "rate_limit_burst": n|null}.
// null clears an override (the gateway-wide RATE_LIMIT_RPS applies again); rps 0 means unlimited.
import { BadRequest } from '../errors.js';

const FIELDS = new Set(['rate_limit_rps', 'rate_limit_burst']);
export const MAX_LIMIT = 1_000_000;

export function parseTenantLimits(body: unknown): { rps: number | null; burst: number | null } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('invalid_body', 'the body must be a JSON object like {"rate_limit_rps": 50, "rate_limit_burst": 100}', 'body');
  }
  for (const key of Object.keys(body)) {
    if (!FIELDS.has(key)) throw new BadRequest('unknown_field', `unknown field ${JSON.stringify(key)}; accepted: rate_limit_rps, rate_limit_burst`, key);
  }
  const fields = body as { rate_limit_rps?: unknown; rate_limit_burst?: unknown };
  if (!('rate_limit_rps' in fields)) throw new BadRequest('invalid_field', 'rate_limit_rps is required (a number, or null to clear)', 'rate_limit_rps');
  const rps = limitValue(fields.rate_limit_rps, 'rate_limit_rps', 0);
  const burst = limitValue(fields.rate_limit_burst ?? null, 'rate_limit_burst', 1);
  if (rps === null && burst !== null) {
    throw new BadRequest('invalid_field', 'rate_limit_burst needs rate_limit_rps', 'rate_limit_burst');
  }
  return { rps, burst };
}

function limitValue(value: unknown, field: string, min: number): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_LIMIT) {
    throw new BadRequest('invalid_field', `${field} must be an integer from ${min} to 1000000, or null`, field);
  }
  return value;
}
