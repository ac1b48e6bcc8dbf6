// What the edge's answers carry. Every answer of the API is readable cross-origin; a picture answer
// (200, and 304 per RFC 9110 §15.4.5, which repeats the headers a 200 would carry) has the content key
// as a strong ETag, a year of immutable caching (the URL can only ever mean these bytes, RFC 8246),
// the content URL, Cache-Status and the seed.
import { contentPath } from './request/content-key';
import { IMMUTABLE_CACHE_CONTROL } from './storage';

// Pictures are meant to be embedded anywhere (<img>, canvas, fetch from any origin): CORS for scripts
// (Fetch standard §3.2) and Cross-Origin-Resource-Policy for pages that isolate themselves with COEP
// (Fetch §3.7).
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

// Cache-Status (RFC 9211): one member for this service's cache, the Cache API and the image store
// together. `hit` — served without generating; `fwd=miss; stored` — generated (RFC 9211 §2.2, §2.6)
// and now stored; `fwd=miss` alone — not in the cache and not generated (a HEAD);
// `fwd=miss; detail=not-stored` — generated, but the store refused the write (no `stored`, §2.6);
// `fwd=miss; detail=generating` — a redirect while the generation goes on.
export const CACHE_NAME = 'dreamurl';

export type CacheOutcome = 'hit-cache' | 'hit-store' | 'generated' | 'coalesced' | 'not-stored' | 'miss' | 'generating';

export function cacheStatus(outcome: CacheOutcome): string {
  switch (outcome) {
    case 'hit-cache':
      return `${CACHE_NAME}; hit; detail=cache`;
    case 'hit-store':
      return `${CACHE_NAME}; hit; detail=store`;
    case 'generated':
      return `${CACHE_NAME}; fwd=miss; stored`;
    case 'coalesced':
      // Missed here, but another request's generation stored it meanwhile.
      return `${CACHE_NAME}; fwd=miss; stored; detail=coalesced`;
    case 'not-stored':
      return `${CACHE_NAME}; fwd=miss; detail=not-stored`;
    case 'miss':
      return `${CACHE_NAME}; fwd=miss`;
    case 'generating':
      // Held past HOLD_MS: forwarded, no answer yet (the redirect leads back here).
      return `${CACHE_NAME}; fwd=miss; detail=generating`;
  }
}

// If-None-Match (RFC 9110 §13.1.2) against our strong ETag `"<key>"`. The comparison is the weak one
// the RFC prescribes for If-None-Match (§8.8.3.2), so W/"<key>" matches too. `*` matches whenever we
// have the picture, which only the caller knows.
export function etagFor(key: string): string {
  return `"${key}"`;
}

/** True when the field lists our ETag or is `*`: the answer, if we have the picture, is a 304. */
export function isConditional(field: string | undefined, key: string): boolean {
  if (field === undefined) return false;
  if (field.trim() === '*') return true;
  return field.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etagFor(key));
}

export interface ImageAnswer {
  readonly key: string;
  readonly seed: number | undefined;
  readonly outcome: CacheOutcome;
  readonly extraHeaders?: Readonly<Record<string, string>>;
}

export function imageHeaders(answer: ImageAnswer): Headers {
  const headers = new Headers({
    ...CORS_HEADERS,
    ...answer.extraHeaders,
    'Content-Type': 'image/png',
    ETag: etagFor(answer.key),
    'Cache-Control': IMMUTABLE_CACHE_CONTROL,
    'Content-Location': contentPath(answer.key),
    'Cache-Status': cacheStatus(answer.outcome),
    'X-Content-Type-Options': 'nosniff',
  });
  if (answer.seed !== undefined) headers.set('X-Seed', String(answer.seed));
  return headers;
}

/** 200 with the picture; without a body for HEAD, with the real length either way (RFC 9110 §9.3.2). */
export function imageResponse(
  answer: ImageAnswer,
  body: ReadableStream<Uint8Array> | Uint8Array | undefined,
  size: number,
): Response {
  const headers = imageHeaders(answer);
  headers.set('Content-Length', String(size));
  return new Response(body ?? null, { status: 200, headers });
}

export function notModifiedResponse(answer: ImageAnswer): Response {
  const headers = imageHeaders(answer);
  headers.delete('Content-Type');
  return new Response(null, { status: 304, headers });
}
