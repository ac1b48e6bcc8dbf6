// The pages: GET / — the demo page: a prompt box, a Generate button, the picture and the <img> snippet
// that embeds it. Plain HTML, CSS and a small TypeScript script (no framework; sources in
// edge/demo/page/, bundled by `npm run build:demo`), served as three same-origin files so the page
// runs under a strict Content-Security-Policy with no inline script or style. GET /openapi.json — the
// API as OpenAPI 3.1, generated from the schemas that validate it; GET /docs — the same rendered as a
// readable reference. Both are built once per configuration, on first use.
import type { Hono } from 'hono';
import type { EdgeConfig } from '../config';
import { DEMO_PAGE_HTML, DEMO_PAGE_SCRIPT, DEMO_PAGE_STYLE } from '../demo/page-assets.generated';
import { openApiDocument } from '../openapi/openapi-document';
import { referencePage } from '../openapi/reference-page';
import { CORS_HEADERS } from '../responses';

/** Only same-origin files, plus blob: for the picture the script fetched and shows. */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// The pages change with each deploy; a short cache keeps them fresh while sparing repeat loads.
const PAGE_CACHE_CONTROL = 'public, max-age=300';

export function mountPages(app: Hono, config: EdgeConfig): void {
  // Built on first use, not with the app: the first picture request of an isolate should not spend the
  // CPU time (zod's toJSONSchema for every parameter, ~100 ms on a loaded 2-core machine) on a document
  // it does not send.
  let described: { readonly json: string; readonly reference: string } | undefined;
  const describe = () => {
    if (described === undefined) {
      const document = openApiDocument(config);
      described = { json: JSON.stringify(document), reference: referencePage(document) };
    }
    return described;
  };
  app.get('/', () => asset(DEMO_PAGE_HTML, 'text/html; charset=utf-8'));
  app.get('/demo.js', () => asset(DEMO_PAGE_SCRIPT, 'text/javascript; charset=utf-8'));
  app.get('/demo.css', () => asset(DEMO_PAGE_STYLE, 'text/css; charset=utf-8'));
  app.get('/docs', () => asset(describe().reference, 'text/html; charset=utf-8'));
  app.get(
    '/openapi.json',
    () =>
      new Response(describe().json, {
        headers: { ...CORS_HEADERS, 'Content-Type': 'application/json', 'Cache-Control': PAGE_CACHE_CONTROL },
      }),
  );
}

function asset(body: string, contentType: string): Response {
  return new Response(body, {
    headers: {
      'Content-Type': contentType,
      'Cache-Control': PAGE_CACHE_CONTROL,
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    },
  });
}
