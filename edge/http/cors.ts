// Pictures are meant to be embedded anywhere (<img>, canvas, fetch from any origin), so every answer
// of the API is readable cross-origin: CORS for scripts (Fetch standard §3.2) and
// Cross-Origin-Resource-Policy for pages that isolate themselves with COEP (Fetch §3.7).
export const CORS_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers':
    'ETag, X-Seed, Content-Location, Cache-Status, Retry-After, RateLimit, RateLimit-Policy',
  'Cross-Origin-Resource-Policy': 'cross-origin',
});

/** Answer to a CORS preflight: the API takes GET/HEAD with conditional and key headers only. */
export const PREFLIGHT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  ...CORS_HEADERS,
  'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
  'Access-Control-Allow-Headers': 'Authorization, X-API-Key, If-None-Match',
  'Access-Control-Max-Age': '86400',
});
