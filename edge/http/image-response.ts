// The headers of every picture answer (200, and 304 per RFC 9110 §15.4.5, which repeats the ones a
// 200 would carry): the content key as a strong ETag, a year of immutable caching (the URL can only
// ever mean these bytes, RFC 8246), the content URL, Cache-Status and the seed.
import { contentPath } from '../key/content-key';
import { IMMUTABLE_CACHE_CONTROL } from '../storage/image-store';
import { type CacheOutcome, cacheStatus } from './cache-status';
import { etagFor } from './conditional';
import { CORS_HEADERS } from './cors';

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

export function imageResponse(answer: ImageAnswer, body: ReadableStream<Uint8Array> | Uint8Array, size: number): Response {
  const headers = imageHeaders(answer);
  headers.set('Content-Length', String(size));
  return new Response(body, { status: 200, headers });
}

/** HEAD of a picture we have: the GET headers with the real length (RFC 9110 §9.3.2). */
export function imageHeadResponse(answer: ImageAnswer, size: number): Response {
  const headers = imageHeaders(answer);
  headers.set('Content-Length', String(size));
  return new Response(null, { status: 200, headers });
}

export function notModifiedResponse(answer: ImageAnswer): Response {
  const headers = imageHeaders(answer);
  headers.delete('Content-Type');
  return new Response(null, { status: 304, headers });
}
