// Node's HTTP server settings that bound how long a client may take to send its request. Node's
// defaults let a slow body hold a connection and its buffers for 300 s (requestTimeout), checked only
// every 30 s; REQUEST_TIMEOUT bounds headers and body together, checked often enough to matter.
import type { ServerOptions } from 'node:http';

export function requestTimeouts(requestTimeoutMs: number): ServerOptions {
  return {
    requestTimeout: requestTimeoutMs,
    headersTimeout: requestTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(requestTimeoutMs / 4))),
  };
}
