// Liveness, readiness and metrics (src/routes/health.ts, src/app.ts).
import { z } from 'zod';
import type { Operation } from '../operation.js';

export const healthOperations: readonly Operation[] = [
  {
    method: 'get',
    path: '/health',
    operationId: 'health',
    tag: 'Health',
    summary: 'Liveness: the process answers',
    access: 'public',
    replies: { 200: { description: 'alive', body: z.strictObject({ status: z.literal('ok') }), example: { status: 'ok' } } },
  },
  {
    method: 'get',
    path: '/health/ready',
    operationId: 'ready',
    tag: 'Health',
    summary: 'Readiness: the catalog database answers and the instance is not shutting down',
    access: 'monitoring',
    replies: { 200: { description: 'ready', body: z.strictObject({ status: z.literal('ready') }), example: { status: 'ready' } } },
    errors: ['not_ready', 'shutting_down'],
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    tag: 'Health',
    summary: 'Prometheus metrics',
    access: 'monitoring',
    replies: {
      200: {
        description: 'Prometheus text exposition format',
        contentType: 'text/plain',
        body: z.string(),
        example: '# TYPE tenantgate_http_requests_total counter\ntenantgate_http_requests_total{method="GET",route="/health",status="200"} 3\n',
      },
    },
  },
];
