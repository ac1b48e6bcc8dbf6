// The one error type of the GPU function's HTTP layer: anything that should reach the client as an
// error is thrown (or returned) as a ProblemError and serialised as RFC 9457 problem details by the
// app's single onError handler, so every failure has the same shape as the edge's.
import { PROBLEM_CONTENT_TYPE, type Problem } from '../contract';

export interface ProblemInit extends Problem {
  /** Sent as `Retry-After` in seconds (RFC 9110 §10.2.3) where a later retry may succeed. */
  readonly retryAfterSeconds?: number;
  /** Extra response headers (WWW-Authenticate, Allow). */
  readonly headers?: Readonly<Record<string, string>>;
}

export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  readonly problem: ProblemInit;

  constructor(problem: ProblemInit, options?: { cause?: unknown }) {
    super(problem.detail ?? problem.title, options);
    this.problem = problem;
  }
}

/** Problem type URIs are URNs named after the docs/gpu-function.md section that explains them. */
export function problemType(slug: string): string {
  return `urn:dreamurl:gpu-function:problem:${slug}`;
}

export function problemResponse(problem: ProblemInit): Response {
  const { retryAfterSeconds, headers: extra, ...body } = problem;
  const headers = new Headers({ ...extra, 'Content-Type': PROBLEM_CONTENT_TYPE, 'Cache-Control': 'no-store' });
  if (retryAfterSeconds !== undefined) headers.set('Retry-After', String(Math.max(1, Math.ceil(retryAfterSeconds))));
  return new Response(JSON.stringify(body), { status: problem.status, headers });
}
