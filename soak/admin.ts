// The admin API, as an operator would use it: an HS256 admin JWT minted like the CLI's (`token admin`),
// tenants created, rotated, suspended and resumed over HTTP. Fault steps retry a call that meets a 503
// (or a gateway being restarted) until it is answered, within a bound.
import { adminKey, mintAdminToken } from '../src/http/admin-auth.js';
import { delay } from './time.js';

export interface AdminAnswer {
  readonly status: number;
  readonly body: unknown;
  /** When the answer arrived (Date.now()). */
  readonly at: number;
}

export interface AdminClient {
  call(method: 'GET' | 'POST', path: string, json?: unknown): Promise<AdminAnswer>;
  /** Repeats the call until it is answered 2xx; anything else than 503 / no connection is an error. */
  until2xx(method: 'GET' | 'POST', path: string, json?: unknown, timeoutMs?: number): Promise<AdminAnswer>;
}

export async function adminClient(baseUrl: string, secret: string): Promise<AdminClient> {
  // Long enough for any soak; the gateway checks exp, role and signature.
  const token = await mintAdminToken(adminKey(secret), 48 * 3600, 'tenantgate-soak');
  const call = async (method: 'GET' | 'POST', path: string, json?: unknown): Promise<AdminAnswer> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Kept as text.
    }
    return { status: res.status, body, at: Date.now() };
  };
  return {
    call,
    async until2xx(method, path, json, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last = 'no answer';
      while (Date.now() < deadline) {
        try {
          const answer = await call(method, path, json);
          if (answer.status >= 200 && answer.status < 300) return answer;
          last = `${answer.status} ${JSON.stringify(answer.body)}`;
          if (answer.status !== 503 && answer.status !== 504) break;
        } catch (err) {
          last = String((err as { cause?: { code?: string } }).cause?.code ?? err);
        }
        await delay(200);
      }
      throw new Error(`admin ${method} ${path} failed: ${last}`);
    },
  };
}
