// GET /openapi.json (the document, built once) and GET /docs, the interactive reference: Swagger UI from
// the swagger-ui-dist package, served by the gateway itself under a Content-Security-Policy that lets
// the page load and call nothing but this origin.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Hono } from 'hono';
import { notFoundHandler } from '../http/error-handler.js';
import { onlyMethods } from '../http/methods.js';
import { DOCS_ASSETS, type DocsAsset } from '../openapi/docs-assets.js';
import type { OpenApiDocument } from '../openapi/document.js';

// Swagger UI's style sheet draws a few icons from data: URLs; nothing else is allowed from anywhere.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>tenantgate API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

// A file of its own, not an inline script: the CSP allows scripts from this origin only.
const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  tryItOutEnabled: true,
  displayRequestDuration: true,
  validatorUrl: null,
});
`;

export function docsRoutes(document: OpenApiDocument): Hono {
  const app = new Hono();
  const json = JSON.stringify(document);
  const require = createRequire(import.meta.url);
  // Read on first use and kept: a few hundred kB, the same for the life of the process.
  const files = new Map<DocsAsset, Promise<string>>();
  const load = (asset: DocsAsset): Promise<string> => {
    let file = files.get(asset);
    if (file === undefined) {
      file = asset === 'init.js' ? Promise.resolve(INIT) : readFile(require.resolve(`swagger-ui-dist/${asset}`), 'utf8');
      files.set(asset, file);
    }
    return file;
  };

  app.get('/openapi.json', (c) => c.body(json, 200, { 'content-type': 'application/json; charset=utf-8' }));
  app.get('/docs', (c) => c.html(PAGE, 200, { 'content-security-policy': CSP, 'x-content-type-options': 'nosniff' }));
  app.get('/docs/:asset', async (c) => {
    const asset = c.req.param('asset');
    if (!Object.hasOwn(DOCS_ASSETS, asset)) return notFoundHandler(c);
    const name = asset as DocsAsset;
    return c.body(await load(name), 200, {
      'content-type': DOCS_ASSETS[name],
      'cache-control': 'public, max-age=3600',
      'x-content-type-options': 'nosniff',
    });
  });
  // As on every other path: a wrong method is 405 with Allow, not 404 (the document promises it).
  for (const path of ['/openapi.json', '/docs', '/docs/:asset']) app.all(path, onlyMethods('GET'));
  return app;
}
