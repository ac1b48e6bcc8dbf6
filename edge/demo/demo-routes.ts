// GET / — the demo page: a prompt box, a Generate button, the picture and the <img> snippet that embeds
// it. Plain HTML, CSS and a small TypeScript script (no framework; sources in edge/demo/page/, bundled
// by `npm run build:demo`), served as three same-origin files so the page runs under a strict
// Content-Security-Policy with no inline script or style.
import type { Hono } from 'hono';
import { DEMO_PAGE_HTML, DEMO_PAGE_SCRIPT, DEMO_PAGE_STYLE } from './page-assets.generated';

/** Only same-origin files, plus blob: for the picture the script fetched and shows. */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// The page changes with each deploy; a short cache keeps it fresh while sparing repeat loads.
const PAGE_CACHE_CONTROL = 'public, max-age=300';

export function mountDemoPage(app: Hono): void {
  app.get('/', () => asset(DEMO_PAGE_HTML, 'text/html; charset=utf-8'));
  app.get('/demo.js', () => asset(DEMO_PAGE_SCRIPT, 'text/javascript; charset=utf-8'));
  app.get('/demo.css', () => asset(DEMO_PAGE_STYLE, 'text/css; charset=utf-8'));
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
