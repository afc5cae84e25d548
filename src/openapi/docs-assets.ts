// The files of the interactive reference at /docs: Swagger UI's own, from the swagger-ui-dist package,
// and the page's initialiser (./docs-init.js). Served by the gateway: the page loads nothing from
// elsewhere, which its Content-Security-Policy enforces.
export const DOCS_ASSETS = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'init.js': 'text/javascript; charset=utf-8',
} as const satisfies Record<string, string>;

export type DocsAsset = keyof typeof DOCS_ASSETS;
