// One structured log line per request: request id, tenant, method, matched route, status, latency.
// Never headers or bodies, so tokens and passwords cannot reach the log. The request id comes from
// x-request-id when it looks like one (so a caller's trace continues), else a new UUID; it is echoed
// back in the response (src/http/envelope.ts).
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export interface RequestLine {
  readonly requestId: string;
  readonly tenantId: string | undefined;
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly ms: number;
}

export interface RequestLog {
  /** False when the logger would drop the line of a request answered `status`: skip building it. */
  wants(status: number): boolean;
  write(line: RequestLine): void;
}

/** The caller's x-request-id when it is a sane one, else a fresh UUID. */
export function requestIdFor(incoming: string | undefined): string {
  return incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

export function createRequestLog(logger: Logger): RequestLog {
  // Server errors at warn, so that LOG_LEVEL=warn still shows them; everything else at info.
  return {
    wants: (status) => logger.isLevelEnabled(status >= 500 ? 'warn' : 'info'),
    write(line) {
      if (line.status >= 500) logger.warn(line, 'request failed');
      else logger.info(line, 'request');
    },
  };
}
