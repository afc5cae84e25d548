// The API's own description: the OpenAPI document and the interactive reference (src/routes/docs.ts).
import { z } from 'zod';
import type { Operation } from '../operation.js';
import { DOCS_ASSETS } from '../docs-assets.js';

export const referenceOperations: readonly Operation[] = [
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openapi',
    tag: 'Reference',
    summary: 'This document (OpenAPI 3.1)',
    access: 'public',
    replies: { 200: { description: 'the OpenAPI document', body: z.looseObject({ openapi: z.literal('3.1.0') }) } },
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'docs',
    tag: 'Reference',
    summary: 'Interactive API reference (Swagger UI, served by the gateway)',
    access: 'public',
    replies: { 200: { description: 'an HTML page', contentType: 'text/html', body: z.string() } },
  },
  {
    method: 'get',
    path: '/docs/{asset}',
    operationId: 'docsAsset',
    tag: 'Reference',
    summary: 'A script or style sheet of the reference page',
    access: 'public',
    pathParams: z.object({ asset: z.enum(Object.keys(DOCS_ASSETS) as [string, ...string[]]) }),
    replies: {
      200: { description: 'the asset', contentType: '*/*', body: z.string() },
    },
    errors: ['route_not_found'],
  },
];
