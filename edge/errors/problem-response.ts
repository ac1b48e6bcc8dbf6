// Serialises a problem as RFC 9457 `application/problem+json`. Errors are never cached: they depend
// on load, limits and configuration, not only on the URL.
import { PROBLEM_CONTENT_TYPE } from '../../gpu-function/contract';
import { CORS_HEADERS } from '../http/cors';
import type { ProblemInit } from './problem';

export function problemResponse(problem: ProblemInit): Response {
  const { retryAfterSeconds, headers: extra, ...body } = problem;
  const headers = new Headers({
    ...CORS_HEADERS,
    ...extra,
    'Content-Type': PROBLEM_CONTENT_TYPE,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  if (retryAfterSeconds !== undefined) headers.set('Retry-After', String(Math.max(0, Math.ceil(retryAfterSeconds))));
  return new Response(JSON.stringify(body), { status: problem.status, headers });
}
