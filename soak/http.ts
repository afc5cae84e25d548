// A small keep-alive HTTP client for the traffic (node:http: far less CPU per request than fetch, and
// the soak shares two cores with the gateway and PostgreSQL). Every call resolves, never throws: with a
// status and body, a connection error (the gateway is down) or a timeout (no answer at all).
import { Agent, request } from 'node:http';

export type Outcome =
  | { readonly kind: 'answer'; readonly status: number; readonly body: string }
  | { readonly kind: 'connection'; readonly error: string }
  | { readonly kind: 'timeout' };

export interface Exchange {
  readonly start: number;
  readonly end: number;
  readonly outcome: Outcome;
}

export interface HttpClient {
  send(method: 'GET' | 'POST', path: string, headers: Record<string, string>, json?: unknown): Promise<Exchange>;
  close(): void;
}

export function httpClient(baseUrl: string, timeoutMs: number): HttpClient {
  const url = new URL(baseUrl);
  // LIFO: the most recently used sockets carry the traffic and idle ones age out (Node honours the
  // server's Keep-Alive timeout hint), so a request rarely races a server closing an idle socket.
  const agent = new Agent({ keepAlive: true, maxSockets: 64, scheduling: 'lifo' });
  return {
    send(method, path, headers, json) {
      const start = Date.now();
      const body = json === undefined ? undefined : JSON.stringify(json);
      return new Promise<Exchange>((resolve) => {
        let settled = false;
        const finish = (outcome: Outcome): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ start, end: Date.now(), outcome });
        };
        const req = request(
          {
            agent,
            host: url.hostname,
            port: url.port,
            method,
            path,
            headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => finish({ kind: 'answer', status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', (err: NodeJS.ErrnoException) => finish({ kind: 'connection', error: err.code ?? err.message }));
          },
        );
        const timer = setTimeout(() => {
          finish({ kind: 'timeout' });
          req.destroy();
        }, timeoutMs);
        req.on('error', (err: NodeJS.ErrnoException) => finish({ kind: 'connection', error: err.code ?? err.message }));
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}

/** The `error.code` of a JSON error envelope, if the body is one. */
export function errorCode(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === 'string' ? parsed.error.code : undefined;
  } catch {
    return undefined;
  }
}
