// The demo page is served by the edge as three same-origin files under a strict CSP
// (the browser test in test/browser/ drives it for real).
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';

describe('GET /', () => {
  it('serves the page with a labelled prompt box, a Generate button and a live status line', async () => {
    const response = await exports.default.fetch('http://edge.test/');
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('Content-Security-Policy')).toContain("script-src 'self'");
    const html = await response.text();
    expect(html).toContain('<label for="prompt">Prompt</label>');
    expect(html).toMatch(/<textarea id="prompt"/);
    expect(html).toMatch(/<button id="generate" type="submit">Generate<\/button>/);
    expect(html).toMatch(/id="status" role="status" aria-live="polite"/);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
  });

  it.each([
    ['/demo.js', 'text/javascript; charset=utf-8', 'generating\\u2026'],
    ['/demo.css', 'text/css; charset=utf-8', '#generate'],
  ])('serves %s', async (path, contentType, marker) => {
    const response = await exports.default.fetch(`http://edge.test${path}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toBe(contentType);
    expect(await response.text()).toContain(marker);
  });

  it('parses as JavaScript', async () => {
    const script = await (await exports.default.fetch('http://edge.test/demo.js')).text();
    // Compiling without running it: a syntax error in the served script fails here, not in a browser.
    expect(() => new Function(script)).not.toThrow();
  });
});
